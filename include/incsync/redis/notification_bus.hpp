// The notification bus over Redis Pub/Sub (hiredis, driven by Boost.Asio).
//
//     boost::asio::io_context ioc;
//     incsync::redis::notification_bus bus(ioc.get_executor(), {.host = "127.0.0.1", .port = 6379});
//     incsync::bus_relay relay(hub);
//     bus.start(relay);          // connects in the background, reconnects until stop()
//     bus.publish(notification); // from any thread
//
// Two connections: a subscribed one (Redis refuses PUBLISH on it) and one
// for PUBLISH. The bus counts as connected only while both are up and the
// SUBSCRIBE has been confirmed; everything about drops, gaps, catch_ups and
// echoes is `incsync::detail::bus_book`'s (bus.hpp).
#ifndef INCSYNC_REDIS_NOTIFICATION_BUS_HPP
#define INCSYNC_REDIS_NOTIFICATION_BUS_HPP

#include <incsync/bus.hpp>
#include <incsync/error.hpp>
#include <incsync/redis/detail/hiredis_asio.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace incsync::redis {

/// Where a Redis server is, as `parse_redis_url` reads it.
struct redis_url {
    std::string host;
    std::uint16_t port = 6379;
    int db = 0; ///< accepted for the URL's sake; Pub/Sub channels span databases
};

/// Parses `redis://host[:port][/db]` (port 6379 by default; an IPv6 address
/// in brackets). Refuses, with an `errc::invalid_argument` and a detail
/// naming what is wrong, anything else: another scheme (`rediss://`: TLS is
/// not supported), credentials, a query, a bad port or database.
inline result<redis_url> parse_redis_url(std::string_view url)
{
    auto bad = [url](std::string_view why) {
        return error_info(make_error_code(boost::system::errc::invalid_argument),
                          "redis URL '" + std::string(url) + "': " + std::string(why));
    };
    auto number = [](std::string_view s, auto& out) {
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
    };
    constexpr std::string_view scheme = "redis://";
    if (url.starts_with("rediss://")) return bad("TLS (rediss://) is not supported");
    if (!url.starts_with(scheme)) return bad("expected redis://host:port[/db]");
    std::string_view rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    const std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (authority.find('@') != std::string_view::npos) return bad("credentials (AUTH) are not supported");
    if (rest.find_first_of("?#") != std::string_view::npos) return bad("a query or fragment is not supported");
    redis_url out;
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unclosed '[' in the host");
        out.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) return bad("expected ':' after ']'");
        if (!after.empty()) port = after.substr(1);
        if (after == ":") return bad("empty port");
    }
    else {
        const auto colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (port.empty()) return bad("empty port");
        }
    }
    if (out.host.empty()) return bad("no host");
    if (!port.empty() && (!number(port, out.port) || out.port == 0)) return bad("the port must be 1 to 65535");
    if (!path.empty() && (!number(path, out.db) || out.db < 0)) return bad("the database must be a number");
    return out;
}

/// How a `notification_bus` reaches Redis and what it does when it cannot.
struct bus_options {
    std::string host = "127.0.0.1"; ///< an address, or a name resolved without blocking
    std::uint16_t port = 6379;
    std::string channel = "incsync"; ///< every instance of one deployment uses the same
    std::chrono::milliseconds reconnect_initial{100}; ///< first retry delay, doubled per failure...
    std::chrono::milliseconds reconnect_max{2000};    ///< ...up to this; back to initial once connected
    /// Bounds one attempt: TCP connection of both links and the SUBSCRIBE's confirmation.
    std::chrono::milliseconds connect_timeout{2000};
    /// Told of connections made and lost (on the bus's executor); may be empty.
    std::function<void(std::string_view)> log;
};

/// A `incsync::notification_bus` over Redis Pub/Sub.
///
/// Runs on a strand of the executor given at construction. Thread safety:
/// `publish`, `stop` and `stats` may be called from any thread; `start`
/// once. The listener is called on the strand, never after `stop` returns
/// (except a call already running). `stop` (and the destructor) closes both
/// connections and cancels every timer, so the io_context runs out of work;
/// the last of that teardown runs on the executor after `stop` returns.
/// Nothing throws except allocation.
class notification_bus {
public:
    notification_bus(boost::asio::any_io_executor ex, bus_options options)
        : impl_(std::make_shared<impl>(std::move(ex), std::move(options)))
    {
    }
    notification_bus(const notification_bus&) = delete;
    notification_bus& operator=(const notification_bus&) = delete;
    ~notification_bus() { stop(); }

    /// Connects in the background, and again after every loss, until `stop`.
    /// `listener` must outlive the bus or the `stop` call.
    void start(bus_listener& listener)
    {
        boost::asio::post(impl_->strand_, [self = impl_, l = &listener] {
            if (self->stopped_) return;
            self->listener_ = l;
            self->do_connect();
        });
    }

    /// Queues `n` for the other instances; dropped (and counted, and owed a
    /// catch_up) while disconnected. Never blocks.
    void publish(const notification_ptr& n)
    {
        boost::asio::post(impl_->strand_, [self = impl_, n] { self->do_publish(*n); });
    }

    /// Stops for good. Idempotent.
    void stop()
    {
        if (impl_->stopped_.exchange(true)) return;
        boost::asio::post(impl_->strand_, [self = impl_] {
            self->teardown();
            self->book_.lost();
        });
    }

    bus_stats stats() const { return impl_->book_.stats(); }

private:
    using connection = detail::hiredis_asio;

    struct impl : std::enable_shared_from_this<impl> {
        impl(boost::asio::any_io_executor ex, bus_options o)
            : strand_(boost::asio::make_strand(ex)), options_(std::move(o)), timer_(strand_),
              backoff_(options_.reconnect_initial)
        {
        }

        void do_connect()
        {
            if (stopped_) return;
            const auto attempt = ++attempt_;
            auto w = weak_from_this();
            auto closed = [w](std::string_view which) {
                return [w, which](std::string why) {
                    if (auto s = w.lock()) s->on_down(std::string(which) + why);
                };
            };
            sub_ = std::make_shared<connection>(strand_);
            pub_ = std::make_shared<connection>(strand_);
            sub_->connect(options_.host, options_.port, options_.connect_timeout,
                          {[w] { if (auto s = w.lock()) s->on_sub_connected(); }, closed("subscriber: ")});
            pub_->connect(options_.host, options_.port, options_.connect_timeout,
                          {[w] { if (auto s = w.lock()) s->on_pub_connected(); }, closed("publisher: ")});
            timer_.expires_after(options_.connect_timeout);
            timer_.async_wait([self = shared_from_this(), attempt](boost::system::error_code ec) {
                if (!ec && attempt == self->attempt_ && !self->book_.connected())
                    self->on_down("no confirmed SUBSCRIBE within the connect timeout");
            });
        }

        void on_sub_connected()
        {
            auto w = weak_from_this();
            const bool sent = sub_->command(
                {"SUBSCRIBE", options_.channel},
                [w](const detail::reply& r) {
                    if (auto s = w.lock()) s->on_sub_reply(r);
                },
                true);
            if (!sent) on_down("subscriber: cannot send SUBSCRIBE");
        }

        void on_sub_reply(const detail::reply& r)
        {
            if (stopped_) return;
            if (r.is_error()) return on_down("SUBSCRIBE refused: " + r.str);
            if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 3) return;
            const auto& kind = r.elements[0].str;
            if (kind == "message") return book_.received(r.elements[2].str, *listener_);
            if (kind == "subscribe") {
                subscribed_ = true;
                maybe_resume();
            }
        }

        void on_pub_connected()
        {
            pub_up_ = true;
            maybe_resume();
        }

        void maybe_resume()
        {
            if (stopped_ || !subscribed_ || !pub_up_ || book_.connected()) return;
            timer_.cancel();
            backoff_ = options_.reconnect_initial;
            log("connected to " + where() + ", subscribed to '" + options_.channel + "'");
            if (auto catch_up = book_.resumed(*listener_)) send(std::move(*catch_up));
        }

        void do_publish(const wire::notification& n)
        {
            if (stopped_) return;
            if (auto m = book_.outgoing(n)) send(std::move(*m));
        }

        void send(std::string message)
        {
            auto w = weak_from_this();
            pub_->command({"PUBLISH", options_.channel, std::move(message)}, [w](const detail::reply& r) {
                if (auto s = w.lock(); s && !s->stopped_ && r.is_error()) s->log("PUBLISH refused: " + r.str);
            });
        }

        // Either link failed, or the attempt timed out: both go, and a new
        // attempt follows the backoff. Publishes drop meanwhile (bus_book).
        void on_down(const std::string& why)
        {
            if (stopped_) return;
            book_.lost();
            teardown();
            log(where() + ": " + why + "; reconnecting in " + std::to_string(backoff_.count()) + " ms");
            timer_.expires_after(backoff_);
            timer_.async_wait([self = shared_from_this(), attempt = attempt_](boost::system::error_code ec) {
                if (!ec && attempt == self->attempt_) self->do_connect();
            });
            backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
        }

        void teardown()
        {
            ++attempt_; // a timer completion already queued is stale
            timer_.cancel();
            if (sub_) sub_->close();
            if (pub_) pub_->close();
            sub_.reset();
            pub_.reset();
            subscribed_ = pub_up_ = false;
        }

        std::string where() const { return "redis " + options_.host + ":" + std::to_string(options_.port); }

        void log(const std::string& line) const
        {
            if (options_.log) options_.log(line);
        }

        boost::asio::strand<boost::asio::any_io_executor> strand_;
        bus_options options_;
        incsync::detail::bus_book book_;
        std::atomic<bool> stopped_{false};
        // On the strand only:
        bus_listener* listener_ = nullptr;
        boost::asio::steady_timer timer_; // the attempt's deadline, then the backoff
        std::chrono::milliseconds backoff_;
        std::shared_ptr<connection> sub_, pub_;
        std::uint64_t attempt_ = 0;
        bool subscribed_ = false;
        bool pub_up_ = false;
    };

    std::shared_ptr<impl> impl_;
};

static_assert(incsync::notification_bus<notification_bus>);

} // namespace incsync::redis

#endif
