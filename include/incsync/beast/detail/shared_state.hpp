// What every session of one server shares: options, the hub, the rate
// limiter, counters, the log, and the registry `stop()` walks. Sessions hold
// it by shared_ptr, so it outlives the last of them.
#ifndef INCSYNC_BEAST_DETAIL_SHARED_STATE_HPP
#define INCSYNC_BEAST_DETAIL_SHARED_STATE_HPP

#include <incsync/beast/server_options.hpp>
#include <incsync/hub.hpp>
#include <incsync/server/rate_limiter.hpp>
#include <incsync/timestamp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace incsync::beast::detail {

/// A live connection, as `stop()` sees it.
class session_base {
public:
    virtual ~session_base() = default;
    /// Closes the connection soon (WebSockets with close code 1001). Any thread.
    virtual void shutdown() = 0;
};

struct counters {
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
};

class shared_state {
public:
    /// `now` is the store's clock, for the `server_time` of pongs.
    shared_state(server_options options, std::function<timestamp()> now)
        : options_(std::move(options)), limiter_(options_.rate), now_(std::move(now))
    {
    }

    timestamp now() const { return now_(); }

    const server_options& options() const noexcept { return options_; }
    notification_hub& hub() noexcept { return hub_; }
    incsync::server::rate_limiter& limiter() noexcept { return limiter_; }
    struct counters& counters() noexcept { return counters_; }

    bool logging() const noexcept { return static_cast<bool>(options_.log); }
    void log(std::string_view line) const
    {
        if (options_.log) options_.log(line);
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
        return {c.http_connections.load(), c.websocket_connections.load(), c.event_streams.load(),
                c.long_polls.load(),       c.requests.load(),              c.notifications_sent.load(),
                c.catch_ups.load(),        c.closed_stalled.load(),        c.closed_dead.load(),
                c.rate_limited.load()};
    }

private:
    server_options options_;
    notification_hub hub_;
    incsync::server::rate_limiter limiter_;
    std::function<timestamp()> now_;
    struct counters counters_;
    mutable std::mutex mutex_;
    bool stopping_ = false;
    std::unordered_map<session_base*, std::weak_ptr<session_base>> sessions_;
};

} // namespace incsync::beast::detail

#endif
