// A bus_listener for the bus tests: what a bus delivered (notifications,
// gaps), read from the test's thread.
#ifndef INCSYNC_TESTS_SUPPORT_BUS_RECORDER_HPP
#define INCSYNC_TESTS_SUPPORT_BUS_RECORDER_HPP

#include <incsync/bus.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace test_support {

using incsync::bus_listener;
using incsync::notification_ptr;
using incsync::version_t;

/// What a bus told its instance.
class recorder final : public bus_listener {
public:
    void on_notification(const notification_ptr& n) override
    {
        std::lock_guard lock(mutex_);
        got_.push_back(n);
    }
    void on_gap() override { gaps_.fetch_add(1); }

    std::vector<notification_ptr> got() const
    {
        std::lock_guard lock(mutex_);
        return got_;
    }
    std::size_t count() const { return got().size(); }
    bool has_version(version_t v) const
    {
        for (const auto& n : got())
            if (n->version == v) return true;
        return false;
    }
    std::uint64_t gaps() const { return gaps_.load(); }

private:
    mutable std::mutex mutex_;
    std::vector<notification_ptr> got_;
    std::atomic<std::uint64_t> gaps_{0};
};

} // namespace test_support

#endif
