// A real Redis server for the tests: `redis-server` as a child process on a
// free port of 127.0.0.1, its working directory a fresh temporary one, no
// persistence. It can be stopped, killed and started again on the same
// port; the destructor kills what still runs and removes the directory.
// `command` speaks RESP over a plain socket, for what a test sends by hand.
#ifndef INCSYNC_TESTS_SUPPORT_REDIS_SERVER_HPP
#define INCSYNC_TESTS_SUPPORT_REDIS_SERVER_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace test_support {

class redis_server {
public:
    /// Starts at once; throws std::runtime_error (with the server's log)
    /// when it does not accept connections within 10 s.
    redis_server() : port_(pick_port())
    {
        static std::atomic<int> counter{0};
        dir_ = std::filesystem::temp_directory_path()
             / ("incsync-redis-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        try {
            start();
        }
        catch (...) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
            throw;
        }
    }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;
    ~redis_server()
    {
        kill();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::uint16_t port() const noexcept { return port_; }
    bool running() const noexcept { return pid_ > 0; }

    /// Starts the server (again, on the same port) and waits until it answers PING.
    void start()
    {
        if (running()) return;
        const std::string log = (dir_ / "redis.log").string();
        const std::vector<std::string> argv = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                               "--dir", dir_.string(), "--save", "", "--appendonly", "no",
                                               "--daemonize", "no"};
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::posix_spawn_file_actions_adddup2(&actions, 1, 2);
        pid_t pid = -1;
        const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
        ::posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawnp redis-server");
        pid_ = pid;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (command({"PING"}) != "+PONG") {
            if (reap(false)) fail("redis-server exited at start");
            if (std::chrono::steady_clock::now() >= deadline) {
                kill();
                fail("redis-server did not answer PING within 10 s");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    /// SIGTERM, as an orderly shutdown; waits (10 s at most, then SIGKILL).
    void stop() { end(SIGTERM); }
    /// SIGKILL: a crash.
    void kill() { end(SIGKILL); }
    void restart()
    {
        stop();
        start();
    }

    /// Sends one command as a RESP array on a fresh connection; the first
    /// line of the reply ("+PONG", ":1", "-ERR ..."), or "" when the server
    /// cannot be reached or does not answer within a second.
    std::string command(const std::vector<std::string>& args) const
    {
        std::string out = "*" + std::to_string(args.size()) + "\r\n";
        for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return {};
        sockaddr_in addr = loopback(port_);
        std::string line;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
            && ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size())) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            char c = 0;
            while (std::chrono::steady_clock::now() < deadline) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 100) <= 0) continue;
                if (::recv(fd, &c, 1, 0) != 1) break;
                if (c == '\n') break;
                if (c != '\r') line.push_back(c);
            }
            if (c != '\n') line.clear();
        }
        ::close(fd);
        return line;
    }

    std::string log() const
    {
        std::ifstream in(dir_ / "redis.log");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    static sockaddr_in loopback(std::uint16_t port)
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        return a;
    }

    // A port of 127.0.0.1 nothing listened on a moment ago.
    static std::uint16_t pick_port()
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = loopback(0);
        socklen_t len = sizeof a;
        const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
                     && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        if (fd >= 0) ::close(fd);
        if (!ok) throw std::runtime_error("test Redis server: no free port on 127.0.0.1");
        return ntohs(a.sin_port);
    }

    // Reaps the child if it has exited (waiting for it when `block`); true when it is gone.
    bool reap(bool block)
    {
        if (pid_ <= 0) return true;
        int status = 0;
        pid_t r = 0;
        do r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0) return false;
        pid_ = -1;
        return true;
    }

    void end(int sig)
    {
        if (pid_ <= 0) return;
        ::kill(pid_, sig);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!reap(false)) {
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                reap(true);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    [[noreturn]] void fail(const std::string& why) const
    {
        throw std::runtime_error("test Redis server on port " + std::to_string(port_) + ": " + why + "\n" + log());
    }

    std::uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

} // namespace test_support

#endif
