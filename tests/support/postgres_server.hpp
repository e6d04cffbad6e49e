// A real PostgreSQL server for the tests: a fresh cluster in a temporary
// directory, listening on a free port of 127.0.0.1, stopped and removed at
// the end. Debian's server binaries (/usr/lib/postgresql/N/bin) refuse to run
// as root, so as root they run as the `postgres` user the package creates.
#ifndef INCSYNC_TESTS_SUPPORT_POSTGRES_SERVER_HPP
#define INCSYNC_TESTS_SUPPORT_POSTGRES_SERVER_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace test_support {

/// A port of 127.0.0.1 nothing listened on a moment ago.
inline std::uint16_t free_loopback_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("no free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

/// Runs `argv` to completion, output appended to `log`; its exit status.
inline int run_program(const std::vector<std::string>& argv, const std::string& log)
{
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out >= 0) {
            ::dup2(out, 1);
            ::dup2(out, 2);
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class postgres_server {
public:
    postgres_server() : port_(free_loopback_port())
    {
        static std::atomic<int> counter{0};
        dir_ = std::filesystem::temp_directory_path()
             / ("incsync-pg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        if (as_postgres()) {
            const passwd* pw = ::getpwnam("postgres");
            if (!pw || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
                fail("the postgres user (from Debian's postgresql package) is needed to run the server as root");
        }
        if (tool({bin("initdb"), "-D", data(), "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8"}) != 0)
            fail("initdb failed");
        start();
    }
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;
    ~postgres_server()
    {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    /// One server per test process, started on first use.
    static postgres_server& shared()
    {
        static postgres_server s;
        return s;
    }

    /// libpq connection string of database `db`.
    std::string conninfo(const std::string& db = "postgres") const
    {
        return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user + " dbname=" + db
             + " connect_timeout=5";
    }
    /// The same as a `postgresql://` URI.
    std::string uri(const std::string& db = "postgres") const
    {
        return "postgresql://" + std::string(user) + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
    }
    std::uint16_t port() const noexcept { return port_; }

    /// Starts (again, same port and data); pg_ctl waits until it accepts.
    void start()
    {
        const std::string options = "-h 127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string()
                                  + " -F -c max_connections=300 -c shared_buffers=32MB";
        if (tool({bin("pg_ctl"), "-D", data(), "-l", (dir_ / "server.log").string(), "-o", options, "-w", "-t", "30",
                  "start"})
            != 0)
            fail("pg_ctl start failed");
        running_ = true;
    }
    /// Stops at once ("fast": open connections are cut).
    void stop()
    {
        if (!running_) return;
        running_ = false;
        (void)tool({bin("pg_ctl"), "-D", data(), "-m", "fast", "-w", "-t", "30", "stop"});
    }

    /// Runs SQL through psql (setup of tests); its exit status.
    int psql(const std::string& sql, const std::string& db = "postgres") const
    {
        return tool({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo(db), "-c", sql});
    }

private:
    static constexpr const char* user = "incsync";

    static bool as_postgres() { return ::geteuid() == 0; }

    /// The newest installed server's program `name`.
    static std::string bin(const std::string& name)
    {
        std::vector<std::filesystem::path> found;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
            if (std::filesystem::exists(e.path() / "bin" / name)) found.push_back(e.path() / "bin" / name);
        if (found.empty()) missing("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)");
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
            return std::stoi(a.parent_path().parent_path().filename().string())
                 < std::stoi(b.parent_path().parent_path().filename().string());
        });
        return found.back().string();
    }

    int tool(std::vector<std::string> argv) const
    {
        if (as_postgres()) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
        return run_program(argv, (dir_ / "tools.log").string());
    }

    std::string data() const { return (dir_ / "data").string(); }

    [[noreturn]] void fail(const std::string& why) const
    {
        std::ifstream in(dir_ / "tools.log");
        std::stringstream log;
        log << in.rdbuf();
        throw std::runtime_error("test PostgreSQL server: " + why + "\n" + log.str());
    }
    [[noreturn]] static void missing(const char* why)
    {
        throw std::runtime_error(std::string("test PostgreSQL server: ") + why);
    }

    std::uint16_t port_;
    std::filesystem::path dir_;
    bool running_ = false;
};

} // namespace test_support

#endif
