// Child processes for end-to-end tests (the example server and clients), and
// a temporary directory for their files. Both clean up after themselves: a
// child still running at destruction is killed and reaped, the directory is
// removed.
#ifndef INCSYNC_TESTS_INTEGRATION_PROCESS_HPP
#define INCSYNC_TESTS_INTEGRATION_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace it {

class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

class child_process {
public:
    /// Starts `argv[0]` with `argv`, stdout and stderr into `output_file`.
    child_process(std::vector<std::string> argv, std::string output_file);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    void signal(int sig);
    /// Waits for the exit; its status (exit code, or 128 + signal), or nullopt
    /// when still running at the deadline.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    /// Everything it wrote so far.
    std::string output() const;
    /// Waits until its output contains `needle`; false at the deadline or exit.
    bool wait_output(const std::string& needle, std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    std::string output_file_;
    std::optional<int> status_;
};

/// How long a child server may take to start listening: an ASan build on a
/// loaded two-core machine (CI runs tests two at a time) can take seconds.
inline constexpr std::chrono::seconds start_timeout{20};

/// The port an incsync-pos-server prints (`listening on 127.0.0.1:PORT`);
/// 0 before it has.
inline std::uint16_t listening_port(const child_process& server)
{
    const auto out = server.output();
    const auto at = out.find("listening on 127.0.0.1:");
    if (at == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::stoi(out.substr(at + 23)));
}

} // namespace it

#endif
