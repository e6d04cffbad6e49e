// A thread of its own for sync work, at low CPU priority: the POS thread
// keeps the processor whenever both want it. Give its executor to
// `sync_client`.
#ifndef INCSYNC_CLIENT_SYNC_THREAD_HPP
#define INCSYNC_CLIENT_SYNC_THREAD_HPP

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <thread>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace incsync::client {

/// Runs an io_context on one thread until destroyed.
class sync_thread {
public:
    /// `nice`: the thread's niceness (Linux; 0 keeps the process's priority).
    explicit sync_thread(int nice = 10) : work_(ioc_.get_executor())
    {
        thread_ = std::thread([this, nice] {
#if defined(__linux__)
            if (nice != 0) {
                // Per thread on Linux: the niceness of this thread's id only.
                const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
                (void)::setpriority(PRIO_PROCESS, tid, nice);
            }
#endif
            ioc_.run();
        });
    }

    /// Lets pending work finish (stop the client first), then joins.
    ~sync_thread() { join(); }

    sync_thread(const sync_thread&) = delete;
    sync_thread& operator=(const sync_thread&) = delete;

    boost::asio::io_context::executor_type executor() noexcept { return ioc_.get_executor(); }

    /// Waits for the queued work to end and the thread to return.
    void join()
    {
        work_.reset();
        if (thread_.joinable()) thread_.join();
    }

private:
    boost::asio::io_context ioc_{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
};

} // namespace incsync::client

#endif
