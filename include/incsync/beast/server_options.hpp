// Settings and counters of the Beast server binding.
#ifndef INCSYNC_BEAST_SERVER_OPTIONS_HPP
#define INCSYNC_BEAST_SERVER_OPTIONS_HPP

#include <incsync/hub.hpp>
#include <incsync/metrics.hpp>
#include <incsync/server/handler.hpp>
#include <incsync/server/rate_limiter.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace incsync::beast {

struct server_options {
    /// How many threads run the io_context. With 1 (the default) connections
    /// need no strands and notifications are woken in one batch per publish,
    /// the cheapest path; with more, each connection runs on its own strand.
    unsigned threads = 1;
    /// Tokens, body limits and images: what the request handler needs.
    incsync::server::handler_options api;
    /// Per-client request rate (HTTP requests, upgrades and streams alike).
    /// The default allows a register's full initial sync at once; {0, 0}
    /// disables limiting (benchmarks).
    incsync::server::rate_limit rate{50, 200};
    std::size_t max_header_bytes = 8 * 1024;
    /// A keep-alive connection with no request for this long is closed, as is
    /// one whose request body takes this long to arrive.
    std::chrono::milliseconds idle_timeout{60'000};
    /// A request's line and headers must arrive within this once its first
    /// byte has: a client that trickles them (slowloris) is closed.
    std::chrono::milliseconds header_timeout{10'000};
    /// Connections one IP address may hold open at once, of every kind
    /// (HTTP, WebSocket, SSE); the next is answered 429 and closed. The
    /// registers of a shop behind one NAT address count together. 0: no cap.
    std::size_t max_connections_per_address = 256;
    /// WebSocket ping (SSE comment) interval. A WebSocket peer that sends
    /// nothing, not even a pong, for two intervals is closed as dead.
    std::chrono::milliseconds heartbeat_interval{15'000};
    /// A connection whose write has not progressed for this long is closed:
    /// its consumer stalled. Until then its queue stays bounded (see outbox).
    std::chrono::milliseconds stall_timeout{30'000};
    /// Kernel send buffer (SO_SNDBUF) of a WebSocket or SSE connection; 0
    /// keeps the system's autotuned one (up to net.ipv4.tcp_wmem's maximum,
    /// 4 MiB by default). Smaller bounds the kernel memory a stalled consumer
    /// pins and lets the stall timeout see it sooner.
    std::size_t stream_send_buffer = 0;
    /// Notifications queued for one connection before the backlog is replaced
    /// by one `catch_up`.
    std::size_t outbox_capacity = 256;
    /// A directory whose files are served for GET and HEAD of any path
    /// outside /api/ (`/` is its index.html): a web client on the sync API's
    /// origin (see incsync/server/static_files.hpp). Empty: none.
    std::filesystem::path web_root;
    /// Largest message a WebSocket client may send (they send pings).
    std::size_t max_client_message = 4096;
    /// WebSocket permessage-deflate (RFC 7692), when a client offers it. Off
    /// by default: a notification is about 200 bytes, which deflate barely
    /// shrinks, and compressing costs CPU per frame (docs/benchmarks.md).
    struct permessage_deflate_options {
        bool enabled = false;
        std::size_t min_bytes = 512; ///< smaller messages go uncompressed
        int level = 6;               ///< zlib level, 1 (fastest) to 9 (smallest)
    } permessage_deflate;
    /// Called with the notification of each of this server's own commits,
    /// the very object its clients get, once they have it: how a bus
    /// (incsync/bus.hpp) carries it to the other instances. Must not block.
    std::function<void(const notification_ptr&)> on_publish;
    /// Adds the caller's own families to `GET /metrics` (a bus's counters).
    std::function<void(incsync::metrics::exposition&)> extra_metrics;
    /// One line per connection event and per error; null: silent.
    std::function<void(std::string_view)> log;
    /// Also log one line per HTTP request.
    bool log_requests = false;
};

/// A snapshot of the server's counters.
struct server_stats {
    std::uint64_t http_connections = 0;      ///< open, not upgraded
    std::uint64_t websocket_connections = 0; ///< open
    std::uint64_t event_streams = 0;         ///< open SSE connections
    std::uint64_t long_polls = 0;            ///< `check?wait=` requests waiting
    std::uint64_t requests = 0;              ///< HTTP requests answered
    std::uint64_t notifications_sent = 0;    ///< frames written to streams
    std::uint64_t catch_ups = 0;             ///< backlogs replaced by a `catch_up`
    std::uint64_t closed_stalled = 0;        ///< streams closed for not reading
    std::uint64_t closed_dead = 0;           ///< WebSockets closed for not answering pings
    std::uint64_t rate_limited = 0;          ///< requests answered 429
    std::uint64_t accepted = 0;              ///< connections accepted since start
    std::uint64_t refused_per_address = 0;   ///< of those, refused by max_connections_per_address
    std::uint64_t sessions = 0;              ///< live connections of every kind
    std::uint64_t notifications_coalesced = 0; ///< notifications a `catch_up` replaced
};

} // namespace incsync::beast

#endif
