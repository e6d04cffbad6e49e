// A fresh directory for a test's files, removed with everything in it.
#ifndef INCSYNC_TESTS_UNIT_TEMP_DIR_HPP
#define INCSYNC_TESTS_UNIT_TEMP_DIR_HPP

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace backends {

/// A fresh directory under the system's temp directory, removed with everything in it.
class temp_dir {
public:
    temp_dir()
    {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path()
              / ("incsync-unit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace backends

#endif
