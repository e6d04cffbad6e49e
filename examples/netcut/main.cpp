// Example tool: incsync-netcut, a TCP relay whose "network" can be cut and
// restored, to watch registers go offline and catch up (scripts/run-demo.sh).
//
//   incsync-netcut --listen 8081 --to 8080
//   kill -USR1 <pid>   # the network goes down: every connection reset, new ones refused
//   kill -USR2 <pid>   # it comes back
//
// Registers pointed at the relay's port reach the server through it. Both
// sides are 127.0.0.1. SIGINT or SIGTERM stops it.
#include <incsync/testing/tcp_proxy.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <cstdint>
#include <functional>
#include <iostream>
#include <optional>
#include <string_view>

namespace {

constexpr std::string_view usage = R"(usage: incsync-netcut --to PORT [--listen PORT]
  --to PORT       the server's port on 127.0.0.1
  --listen PORT   the relay's port on 127.0.0.1 (default 0: any free one)
  SIGUSR1 cuts the network (connections reset, new ones refused), SIGUSR2 restores it.
)";

std::optional<std::uint16_t> to_port(std::string_view s)
{
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

} // namespace

int main(int argc, char** argv)
{
    incsync::testing::tcp_proxy_options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        }
        const auto port = i + 1 < argc ? to_port(argv[++i]) : std::nullopt;
        if (!port || (arg != "--to" && arg != "--listen")) {
            std::cerr << "incsync-netcut: bad or unknown option (" << arg << ")\n" << usage;
            return 2;
        }
        (arg == "--to" ? options.upstream_port : options.listen_port) = *port;
    }
    if (options.upstream_port == 0) {
        std::cerr << "incsync-netcut: --to is required\n" << usage;
        return 2;
    }

    boost::asio::io_context ioc;
    std::optional<incsync::testing::tcp_proxy> relay;
    try {
        relay.emplace(options);
    } catch (const boost::system::system_error& e) {
        std::cerr << "incsync-netcut: cannot listen on 127.0.0.1:" << options.listen_port << ": " << e.what() << '\n';
        return 1;
    }
    std::cout << "relaying 127.0.0.1:" << relay->port() << " -> 127.0.0.1:" << options.upstream_port << std::endl;

    boost::asio::signal_set stop(ioc, SIGINT, SIGTERM);
    stop.async_wait([&](boost::system::error_code, int) { ioc.stop(); });
    boost::asio::signal_set toggle(ioc, SIGUSR1, SIGUSR2);
    std::function<void()> wait_toggle = [&] {
        toggle.async_wait([&](boost::system::error_code ec, int sig) {
            if (ec) return;
            const bool down = sig == SIGUSR1;
            relay->set_refusing(down);
            if (down) relay->cut();
            std::cout << (down ? "network down: connections reset, new ones refused" : "network up") << std::endl;
            wait_toggle();
        });
    };
    wait_toggle();
    ioc.run();
    return 0;
}
