// The client's status model, the plan's `SyncContext`: the one place sync
// trouble surfaces. A UI reads a consistent snapshot at any time or subscribes
// to changes on an executor of its choice; nothing else of the client ever
// throws into it or blocks it.
#ifndef INCSYNC_CLIENT_STATUS_HPP
#define INCSYNC_CLIENT_STATUS_HPP

#include <incsync/change.hpp>
#include <incsync/timestamp.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::client {

/// What went wrong, each with its own silent retry policy (see `sync_client`).
enum class error_kind {
    none,
    offline,        ///< no connection to the server: retried when it comes back
    auth_expired,   ///< 401: paused until a new token is set (or `sync_now`)
    forbidden,      ///< 403: this register may not read the type; retried on `sync_now`
    cursor_expired, ///< 410 resync_required that could not be completed
    rate_limited,   ///< 429: retried after the server's Retry-After
    server_error,   ///< 5xx or an unexpected answer: retried with backoff
    bad_data,       ///< a response that does not decode: retried with backoff
    local_store,    ///< the replica could not be read or written: retried with backoff
};

constexpr std::string_view to_string(error_kind k) noexcept
{
    switch (k) {
    case error_kind::none: return "none";
    case error_kind::offline: return "offline";
    case error_kind::auth_expired: return "auth_expired";
    case error_kind::forbidden: return "forbidden";
    case error_kind::cursor_expired: return "cursor_expired";
    case error_kind::rate_limited: return "rate_limited";
    case error_kind::server_error: return "server_error";
    case error_kind::bad_data: return "bad_data";
    case error_kind::local_store: return "local_store";
    }
    return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, error_kind k) { return os << to_string(k); }

/// One failure, with the details an operator may want to read.
struct sync_problem {
    error_kind kind = error_kind::none;
    std::string message;     ///< human-readable; never contains a token
    unsigned http_status = 0; ///< 0 when no HTTP answer came
    timestamp at;            ///< when it happened (client clock)
    unsigned attempts = 1;   ///< consecutive failures of this kind
    friend bool operator==(const sync_problem&, const sync_problem&) = default;
};

/// How notifications currently reach the client.
enum class channel { none, websocket, long_poll };

constexpr std::string_view to_string(channel c) noexcept
{
    switch (c) {
    case channel::none: return "none";
    case channel::websocket: return "websocket";
    case channel::long_poll: return "long_poll";
    }
    return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, channel c) { return os << to_string(c); }

/// The last pull of one entity type (every page of it), for analytics.
struct pull_stats {
    std::chrono::microseconds duration{0};
    std::size_t records = 0;             ///< upserts and deletes applied
    std::size_t bytes = 0;               ///< body bytes received (compressed when gzipped)
    error_kind error = error_kind::none; ///< how it ended
    timestamp at;                        ///< when it ended (client clock)
    friend bool operator==(const pull_stats&, const pull_stats&) = default;
};

/// The freshness of one entity type.
struct type_status {
    std::string entity_type;
    version_t version = 0;                ///< the replica holds everything up to here
    std::optional<timestamp> last_sync;   ///< last successful pull (client clock)
    std::optional<sync_problem> error;    ///< cleared by the next successful pull
    bool syncing = false;                 ///< a pull is running
    bool pending = false;                 ///< known or suspected to be behind the server
    std::uint64_t pulls = 0;              ///< successful pulls since start
    std::uint64_t records = 0;            ///< records applied (upserts + deletes) since start
    std::uint64_t resyncs = 0;            ///< restarts from scratch after resync_required
    std::uint64_t failures = 0;           ///< failed pulls since start
    std::uint64_t bytes = 0;              ///< pull body bytes received since start
    std::optional<pull_stats> last_pull;
    friend bool operator==(const type_status&, const type_status&) = default;
};

/// A consistent snapshot of the whole client.
struct sync_status {
    bool started = false;
    bool online = false;       ///< the last exchange with the server succeeded
    bool auth_failure = false; ///< the token was refused: re-authentication needed
    channel realtime = channel::none;
    std::size_t pending = 0;   ///< types behind the server plus images waiting
    std::optional<timestamp> last_sync; ///< latest successful pull of any type
    std::optional<sync_problem> last_error; ///< the most recent failure still standing
    std::vector<type_status> types;      ///< in the entity list's order
    std::size_t images_pending = 0;
    std::size_t images_failing = 0;      ///< failed repeatedly (persistent)
    std::uint64_t notifications = 0;     ///< real-time notifications received
    std::uint64_t notifications_skipped = 0; ///< already held: no pull needed
    std::uint64_t reconnects = 0;
    /// Offline spells that ended; the current one started at `offline_since`.
    /// A spell starts when an exchange gets no answer (not before the first).
    std::chrono::microseconds offline_time{0};
    std::optional<timestamp> offline_since;
    std::uint64_t revision = 0;          ///< increases with every change

    /// Time spent offline until `now`, the current spell included.
    std::chrono::microseconds offline_for(timestamp now) const noexcept
    {
        auto t = offline_time;
        if (offline_since && now.micros > offline_since->micros)
            t += std::chrono::microseconds(now.micros - offline_since->micros);
        return t;
    }
    /// Totals over every type since start.
    std::uint64_t pulls() const noexcept { return sum(&type_status::pulls); }
    std::uint64_t failures() const noexcept { return sum(&type_status::failures); }
    std::uint64_t records() const noexcept { return sum(&type_status::records); }
    std::uint64_t bytes() const noexcept { return sum(&type_status::bytes); }

    bool syncing() const noexcept
    {
        return std::any_of(types.begin(), types.end(), [](const type_status& t) { return t.syncing; });
    }
    /// True when any type carries an error (the bottom bar's error button).
    bool has_error() const noexcept
    {
        return std::any_of(types.begin(), types.end(), [](const type_status& t) { return t.error.has_value(); });
    }
    const type_status* type(std::string_view name) const noexcept
    {
        auto it = std::find_if(types.begin(), types.end(), [&](const type_status& t) { return t.entity_type == name; });
        return it == types.end() ? nullptr : &*it;
    }

private:
    std::uint64_t sum(std::uint64_t type_status::*member) const noexcept
    {
        std::uint64_t n = 0;
        for (const auto& t : types) n += t.*member;
        return n;
    }
};

namespace detail {

// The board's state, shared with its subscriptions so that one outliving the
// board unsubscribes harmlessly.
struct status_shared {
    struct subscriber {
        subscriber(boost::asio::any_io_executor e, std::function<void(const sync_status&)> f)
            : ex(std::move(e)), fn(std::move(f)) {}
        boost::asio::any_io_executor ex;
        std::function<void(const sync_status&)> fn;
        // The latest snapshot not yet delivered; one post in flight at a time,
        // so a slow UI gets the newest state instead of a growing queue.
        std::mutex mutex;
        std::optional<sync_status> latest;
        bool posted = false;
        bool active = true;
    };

    mutable std::mutex mutex;
    sync_status current;
    std::vector<std::pair<std::uint64_t, std::shared_ptr<subscriber>>> subscribers;
    std::uint64_t next_id = 0;

    void notify(const std::shared_ptr<subscriber>& sub) // with `mutex` held
    {
        std::lock_guard lock(sub->mutex);
        sub->latest = current;
        if (sub->posted) return;
        sub->posted = true;
        boost::asio::post(sub->ex, [sub] {
            std::optional<sync_status> s;
            {
                std::lock_guard lock(sub->mutex);
                s.swap(sub->latest);
                sub->posted = false;
                if (!sub->active) return;
            }
            if (s) sub->fn(*s);
        });
    }

    void remove(std::uint64_t id)
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(subscribers.begin(), subscribers.end(), [&](const auto& p) { return p.first == id; });
        if (it == subscribers.end()) return;
        {
            std::lock_guard sub_lock(it->second->mutex);
            it->second->active = false;
        }
        subscribers.erase(it);
    }
};

} // namespace detail

/// Holds the status and tells subscribers about changes. Thread-safe: the
/// client writes from its own thread, UIs read from theirs.
class status_board {
public:
    using callback = std::function<void(const sync_status&)>;

    /// Keeps a subscriber registered; unsubscribes on destruction. A callback
    /// never runs after `reset` returns on the callback's own executor.
    class subscription {
    public:
        subscription() = default;
        subscription(subscription&&) noexcept = default;
        subscription& operator=(subscription&& o) noexcept
        {
            if (this != &o) {
                reset();
                board_ = std::move(o.board_);
                id_ = o.id_;
            }
            return *this;
        }
        ~subscription() { reset(); }
        void reset() noexcept
        {
            if (auto board = board_.lock()) board->remove(id_);
            board_.reset();
        }

    private:
        friend class status_board;
        subscription(std::weak_ptr<detail::status_shared> b, std::uint64_t id) : board_(std::move(b)), id_(id) {}
        std::weak_ptr<detail::status_shared> board_;
        std::uint64_t id_ = 0;
    };

    status_board() : shared_(std::make_shared<detail::status_shared>()) {}
    status_board(const status_board&) = delete;
    status_board& operator=(const status_board&) = delete;

    /// A copy of the current status. Never blocks for longer than a copy.
    sync_status snapshot() const
    {
        std::lock_guard lock(shared_->mutex);
        return shared_->current;
    }

    /// Calls `fn(status)` on `ex` after changes (and once now), in order.
    /// Snapshots may be skipped when the subscriber lags: it always gets the
    /// latest. `fn` must not throw.
    [[nodiscard]] subscription subscribe(boost::asio::any_io_executor ex, callback fn)
    {
        std::lock_guard lock(shared_->mutex);
        auto id = ++shared_->next_id;
        auto sub = std::make_shared<detail::status_shared::subscriber>(std::move(ex), std::move(fn));
        shared_->subscribers.emplace_back(id, sub);
        shared_->notify(sub);
        return {shared_, id};
    }

    /// Applies `mutate` to the status and notifies subscribers.
    template <class F>
    void update(F&& mutate)
    {
        std::lock_guard lock(shared_->mutex);
        mutate(shared_->current);
        ++shared_->current.revision;
        for (auto& [id, sub] : shared_->subscribers) shared_->notify(sub);
    }

private:
    std::shared_ptr<detail::status_shared> shared_;
};

} // namespace incsync::client

#endif
