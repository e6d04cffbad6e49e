// A TCP proxy between clients and a server on 127.0.0.1, for fault
// injection: it cuts every connection on command, refuses new ones, delays
// each chunk it forwards, or turns away WebSocket upgrades (so that clients
// must fall back to long-polling). Runs on its own thread.
#ifndef INCSYNC_TESTS_INTEGRATION_PROXY_HPP
#define INCSYNC_TESTS_INTEGRATION_PROXY_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace it {

class tcp_proxy {
public:
    explicit tcp_proxy(std::uint16_t upstream_port);
    ~tcp_proxy();
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    std::uint16_t port() const;

    /// Resets every open connection (both sides) now.
    void cut();
    /// While set, new connections are closed as soon as they are accepted.
    void set_refusing(bool refusing);
    /// Each chunk is forwarded this long after it arrived (0: at once).
    void set_delay(std::chrono::milliseconds delay);
    /// While set, a connection whose first request asks for a WebSocket
    /// upgrade is closed before it reaches the server.
    void set_block_websocket(bool block);

    /// While set, nothing is forwarded and nothing closed: a network that
    /// silently stopped carrying packets (what heartbeats are for).
    void set_stalled(bool stalled);

    std::size_t open_connections() const;
    std::size_t accepted() const;
    std::size_t websocket_blocked() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace it

#endif
