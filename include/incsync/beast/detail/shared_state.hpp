// What every session of one server shares: options, the hub, the rate
// limiter, counters, the log, and the registry `stop()` walks. Sessions hold
// it by shared_ptr, so it outlives the last of them.
#ifndef INCSYNC_BEAST_DETAIL_SHARED_STATE_HPP
#define INCSYNC_BEAST_DETAIL_SHARED_STATE_HPP

#include <incsync/beast/server_options.hpp>
#include <incsync/hub.hpp>
#include <incsync/metrics.hpp>
#include <incsync/server/rate_limiter.hpp>
#include <incsync/timestamp.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace incsync::beast::detail {

/// A live connection, as `stop()` sees it.
class session_base {
public:
    virtual ~session_base() = default;
    /// Closes the connection soon (WebSockets with close code 1001). Any thread.
    virtual void shutdown() = 0;
};

/// A connection with notifications to write, woken from the publisher's thread.
class wakeable {
public:
    virtual ~wakeable() = default;
    /// Runs on the connection's executor.
    virtual void wake() = 0;
};

/// Single-threaded servers: connections to wake after a publish, collected so
/// that one posted handler wakes them all (one post per publish, not one per
/// connection). Thread-safe: publishers may run anywhere.
class wake_list {
public:
    explicit wake_list(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

    void add(std::shared_ptr<wakeable> w)
    {
        std::unique_lock lock(mutex_);
        pending_.push_back(std::move(w));
        if (scheduled_) return;
        scheduled_ = true;
        // `keep` holds a connection, which holds the server state this list lives in.
        auto keep = pending_.front();
        lock.unlock();
        boost::asio::post(executor_, [this, keep = std::move(keep)] { run(); });
    }

private:
    void run()
    {
        {
            std::lock_guard lock(mutex_);
            running_.swap(pending_);
            scheduled_ = false;
        }
        for (auto& w : running_) w->wake();
        running_.clear();
    }

    boost::asio::any_io_executor executor_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<wakeable>> pending_;
    std::vector<std::shared_ptr<wakeable>> running_; // only touched by run(), on the executor
    bool scheduled_ = false;
};

struct counters {
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> refused_per_address{0};
    std::atomic<std::uint64_t> http_connections{0};
    std::atomic<std::uint64_t> websocket_connections{0};
    std::atomic<std::uint64_t> event_streams{0};
    std::atomic<std::uint64_t> long_polls{0};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> notifications_sent{0};
    std::atomic<std::uint64_t> catch_ups{0};
    std::atomic<std::uint64_t> closed_stalled{0};
    std::atomic<std::uint64_t> closed_dead{0};
    std::atomic<std::uint64_t> rate_limited{0};
    std::atomic<std::uint64_t> notifications_coalesced{0};
};

class shared_state;

/// One connection's place in its address's count (server_options::
/// max_connections_per_address): held by the HTTP session, then by the
/// stream it becomes, and given back when the connection ends. Move-only.
class connection_permit {
public:
    connection_permit() = default;
    connection_permit(connection_permit&& o) noexcept
        : state_(std::exchange(o.state_, nullptr)), address_(std::move(o.address_))
    {
    }
    connection_permit& operator=(connection_permit&& o) noexcept
    {
        if (this != &o) {
            release();
            state_ = std::exchange(o.state_, nullptr);
            address_ = std::move(o.address_);
        }
        return *this;
    }
    ~connection_permit() { release(); }

private:
    friend class shared_state;
    connection_permit(shared_state* state, std::string address) : state_(state), address_(std::move(address)) {}
    inline void release() noexcept;

    shared_state* state_ = nullptr; // null: counts nothing (no cap, or moved from)
    std::string address_;
};

class shared_state {
public:
    /// `now` is the store's clock, for the `server_time` of pongs.
    shared_state(boost::asio::any_io_executor executor, server_options options, std::function<timestamp()> now)
        : options_(std::move(options)), limiter_(options_.rate), now_(std::move(now)), executor_(executor),
          wakes_(std::move(executor))
    {
    }

    bool single_threaded() const noexcept { return options_.threads <= 1; }

    /// The executor a new connection runs on: the io_context's own when one
    /// thread runs it, else a fresh strand. (Not inlined: GCC 12 at -O2 warns
    /// falsely, -Warray-bounds, about copying an any_io_executor inlined here.)
    [[gnu::noinline]] boost::asio::any_io_executor connection_executor() const
    {
        if (single_threaded()) return executor_;
        return boost::asio::make_strand(executor_);
    }

    wake_list& wakes() noexcept { return wakes_; }

    timestamp now() const { return now_(); }

    const server_options& options() const noexcept { return options_; }
    notification_hub& hub() noexcept { return hub_; }
    incsync::server::rate_limiter& limiter() noexcept { return limiter_; }
    struct counters& counters() noexcept { return counters_; }

    /// Commit to notification frame written (the socket took it), per frame.
    incsync::metrics::histogram& notify_latency() noexcept { return notify_latency_; }

    bool logging() const noexcept { return static_cast<bool>(options_.log); }
    void log(std::string_view line) const
    {
        if (options_.log) options_.log(line);
    }

    /// A permit for a new connection from `address`, or nullopt when that
    /// address already holds max_connections_per_address connections.
    std::optional<connection_permit> admit(std::string address)
    {
        counters_.accepted.fetch_add(1, std::memory_order_relaxed);
        const auto cap = options_.max_connections_per_address;
        if (cap == 0) return connection_permit{};
        std::lock_guard lock(mutex_);
        auto& n = per_address_[address];
        if (n >= cap) {
            counters_.refused_per_address.fetch_add(1, std::memory_order_relaxed);
            return std::nullopt;
        }
        ++n;
        return connection_permit(this, std::move(address));
    }

    /// Open streams of one store, for `GET /metrics`.
    struct store_streams {
        std::atomic<std::int64_t> websocket{0};
        std::atomic<std::int64_t> sse{0};
    };
    /// The gauges of `store` (nullopt: an admin's stream of every store),
    /// made on first use and kept: a stream looks them up once, when it
    /// opens, and then counts without the lock.
    store_streams& streams_of(std::optional<std::int64_t> store)
    {
        std::lock_guard lock(mutex_);
        auto& p = per_store_[store];
        if (!p) p = std::make_unique<store_streams>();
        return *p;
    }

    /// Registers a session; false when the server is stopping (close it).
    bool add(const std::shared_ptr<session_base>& s)
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        sessions_.emplace(s.get(), s);
        return true;
    }
    void remove(session_base* s) noexcept
    {
        std::lock_guard lock(mutex_);
        sessions_.erase(s);
    }

    /// Refuses new sessions and shuts down every live one.
    void stop()
    {
        std::vector<std::shared_ptr<session_base>> live;
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            for (auto& [p, weak] : sessions_)
                if (auto s = weak.lock()) live.push_back(std::move(s));
        }
        for (auto& s : live) s->shutdown();
    }

    bool stopping() const
    {
        std::lock_guard lock(mutex_);
        return stopping_;
    }

    server_stats stats() const noexcept
    {
        const auto& c = counters_;
        server_stats s{c.http_connections.load(), c.websocket_connections.load(), c.event_streams.load(),
                       c.long_polls.load(),       c.requests.load(),              c.notifications_sent.load(),
                       c.catch_ups.load(),        c.closed_stalled.load(),        c.closed_dead.load(),
                       c.rate_limited.load()};
        s.accepted = c.accepted.load();
        s.refused_per_address = c.refused_per_address.load();
        s.notifications_coalesced = c.notifications_coalesced.load();
        std::lock_guard lock(mutex_);
        s.sessions = sessions_.size();
        return s;
    }

    /// The server's own families of `GET /metrics`: connections, streams,
    /// notifications, refusals.
    void write_metrics(incsync::metrics::exposition& e) const
    {
        const auto s = stats();
        e.family("incsync_connections", "gauge", "Open connections by transport (http: not upgraded; sse: event streams).");
        e.sample("incsync_connections", {{"transport", "http"}}, s.http_connections);
        e.sample("incsync_connections", {{"transport", "websocket"}}, s.websocket_connections);
        e.sample("incsync_connections", {{"transport", "sse"}}, s.event_streams);
        // A family of one unlabelled sample.
        const auto single = [&e](std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
            e.family(name, type, help);
            e.sample(name, {}, v);
        };
        single("incsync_long_polls", "gauge", "check?wait= requests waiting.", s.long_polls);
        single("incsync_sessions", "gauge", "Live connections of every kind.", s.sessions);
        single("incsync_connections_accepted_total", "counter", "Connections accepted since start.", s.accepted);
        e.family("incsync_connections_refused_total", "counter", "Connections refused, by reason.");
        e.sample("incsync_connections_refused_total", {{"reason", "per_address_cap"}}, s.refused_per_address);
        single("incsync_requests_total", "counter", "HTTP requests read, of every kind (API, files, streams, metrics).",
               s.requests);
        single("incsync_rate_limited_total", "counter", "Requests answered 429 by the rate limiter.", s.rate_limited);
        single("incsync_notifications_sent_total", "counter", "Frames written to WebSocket and SSE streams.",
               s.notifications_sent);
        single("incsync_catch_ups_total", "counter", "Stream backlogs replaced by one catch_up message (a slow reader).",
               s.catch_ups);
        single("incsync_notifications_coalesced_total", "counter",
               "Notifications not sent because a catch_up replaced them (slow readers' backlogs).",
               s.notifications_coalesced);
        e.family("incsync_notify_latency_seconds", "histogram",
                 "From a change's commit to its notification frame written to a stream's socket, per frame.");
        e.sample("incsync_notify_latency_seconds", {}, notify_latency_.read(), 1e6);
        e.family("incsync_store_streams", "gauge",
                 "Open WebSocket and SSE streams by store (store=\"all\": an admin's stream of every store).");
        {
            std::lock_guard lock(mutex_);
            for (const auto& [store, g] : per_store_) {
                const std::string name = store ? std::to_string(*store) : "all";
                e.sample("incsync_store_streams", {{"store", name}, {"transport", "websocket"}}, g->websocket.load());
                e.sample("incsync_store_streams", {{"store", name}, {"transport", "sse"}}, g->sse.load());
            }
        }
        e.family("incsync_streams_closed_total", "counter",
                 "Streams the server closed: stalled (not reading) or dead (not answering pings).");
        e.sample("incsync_streams_closed_total", {{"reason", "stalled"}}, s.closed_stalled);
        e.sample("incsync_streams_closed_total", {{"reason", "dead"}}, s.closed_dead);
    }

private:
    friend class connection_permit;
    void release(const std::string& address) noexcept
    {
        std::lock_guard lock(mutex_);
        const auto it = per_address_.find(address);
        if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    }

    server_options options_;
    notification_hub hub_;
    incsync::server::rate_limiter limiter_;
    std::function<timestamp()> now_;
    boost::asio::any_io_executor executor_;
    wake_list wakes_;
    struct counters counters_;
    incsync::metrics::histogram notify_latency_{incsync::metrics::latency_buckets_us()};
    mutable std::mutex mutex_;
    bool stopping_ = false;
    std::unordered_map<session_base*, std::weak_ptr<session_base>> sessions_;
    std::unordered_map<std::string, std::size_t> per_address_;
    std::map<std::optional<std::int64_t>, std::unique_ptr<store_streams>> per_store_; // ordered: a stable scrape
};

void connection_permit::release() noexcept
{
    if (state_) state_->release(address_);
    state_ = nullptr;
}

} // namespace incsync::beast::detail

#endif
