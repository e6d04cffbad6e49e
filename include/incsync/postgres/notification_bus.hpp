// The notification bus over PostgreSQL LISTEN/NOTIFY: instances that share a
// PostgreSQL store need no other service to reach each other's clients.
//
// One connection per instance, driven by libpq's non-blocking API on Asio:
// it LISTENs on the channel and sends this instance's notifications as
// NOTIFY batches (one round trip for all that queued meanwhile). PostgreSQL
// echoes an instance's own NOTIFYs back to it; `bus_book` skips them. A
// heartbeat query every `heartbeat` notices a connection that died silently.
#ifndef INCSYNC_POSTGRES_NOTIFICATION_BUS_HPP
#define INCSYNC_POSTGRES_NOTIFICATION_BUS_HPP

#include <incsync/bus.hpp>
#include <incsync/postgres/detail/connection.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::postgres {

struct bus_options {
    /// libpq connection string or `postgresql://` URI (the store's will do).
    std::string conninfo;
    std::string channel = "incsync";
    /// Reconnection delay: doubles from `reconnect_initial` up to `reconnect_max`.
    std::chrono::milliseconds reconnect_initial{100};
    std::chrono::milliseconds reconnect_max{2000};
    std::chrono::milliseconds connect_timeout{5000};
    /// An idle connection is probed this often; one that leaves a query
    /// unanswered for this long is declared lost.
    std::chrono::milliseconds heartbeat{5000};
    /// One line per connection event; null: silent.
    std::function<void(std::string_view)> log;
};

namespace detail {

namespace asio = boost::asio;

class listen_notify_link : public std::enable_shared_from_this<listen_notify_link> {
public:
    listen_notify_link(asio::any_io_executor executor, bus_options options)
        : strand_(asio::make_strand(std::move(executor))), options_(std::move(options)), timer_(strand_),
          heartbeat_(strand_), descriptor_(strand_), delay_(options_.reconnect_initial)
    {
    }
    ~listen_notify_link() { teardown(); }

    void start(bus_listener& listener)
    {
        asio::dispatch(strand_, [self = shared_from_this(), &listener] {
            self->listener_ = &listener;
            self->connect();
            self->beat();
        });
    }

    void publish(const notification_ptr& n)
    {
        asio::post(strand_, [self = shared_from_this(), n] {
            if (self->stopped_) return;
            auto m = self->book_.outgoing(*n);
            if (!m) return;
            self->pending_.push_back(std::move(*m));
            self->send_pending();
        });
    }

    void stop()
    {
        asio::dispatch(strand_, [self = shared_from_this()] {
            self->stopped_ = true;
            self->teardown();
            self->timer_.cancel();
            self->heartbeat_.cancel();
            self->book_.lost();
        });
    }

    bus_stats stats() const noexcept { return book_.stats(); }

private:
    using clock = std::chrono::steady_clock;

    void log(std::string_view what) const
    {
        if (options_.log) options_.log(std::string("postgres bus: ").append(what));
    }

    // Connecting: PQconnectPoll says which way to wait for the socket next.
    void connect()
    {
        if (stopped_) return;
        ++generation_;
        conn_ = PQconnectStart(options_.conninfo.c_str());
        if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) return lost("cannot connect: " + last_error());
        silence_notices(conn_);
        timer_.expires_after(options_.connect_timeout);
        timer_.async_wait([self = shared_from_this(), g = generation_](boost::system::error_code ec) {
            if (!ec && g == self->generation_ && !self->listening_) self->lost("connection timed out");
        });
        poll_connect(PGRES_POLLING_WRITING);
    }

    void poll_connect(PostgresPollingStatusType wanted)
    {
        if (PQsocket(conn_) < 0) return lost("no socket");
        adopt_socket();
        const auto kind = wanted == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                                          : asio::posix::stream_descriptor::wait_write;
        descriptor_.async_wait(kind, [self = shared_from_this(), g = generation_](boost::system::error_code ec) {
            if (ec || g != self->generation_) return;
            self->release_socket(); // libpq may replace the socket while connecting
            switch (const auto status = PQconnectPoll(self->conn_)) {
            case PGRES_POLLING_OK: return self->connected();
            case PGRES_POLLING_FAILED: return self->lost("cannot connect: " + self->last_error());
            default: return self->poll_connect(status);
            }
        });
    }

    void connected()
    {
        if (PQsetnonblocking(conn_, 1) != 0) return lost("cannot set non-blocking: " + last_error());
        adopt_socket();
        send("LISTEN " + quote_identifier(options_.channel));
        read();
    }

    // Reading: notifications at any time, and the results of what was sent.
    void read()
    {
        descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                               [self = shared_from_this(), g = generation_](boost::system::error_code ec) {
                                   if (ec || g != self->generation_) return;
                                   self->on_readable();
                               });
    }

    void on_readable()
    {
        if (!PQconsumeInput(conn_)) return lost("connection lost: " + last_error());
        while (PGnotify* n = PQnotifies(conn_)) {
            if (listener_) book_.received(n->extra, *listener_);
            PQfreemem(n);
        }
        while (in_flight_ && !PQisBusy(conn_)) {
            PGresult* r = PQgetResult(conn_);
            if (!r) {
                finished();
                continue;
            }
            const auto status = PQresultStatus(r);
            PQclear(r);
            if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return lost("query failed: " + last_error());
        }
        if (!conn_) return;
        send_pending();
        read();
    }

    // A query came back complete; the first is the LISTEN.
    void finished()
    {
        in_flight_ = false;
        if (listening_) return;
        listening_ = true;
        timer_.cancel();
        delay_ = options_.reconnect_initial;
        log("listening on channel " + options_.channel);
        if (auto catch_up = book_.resumed(*listener_)) pending_.insert(pending_.begin(), std::move(*catch_up));
    }

    // Sending: everything queued goes out as one batch of NOTIFYs.
    void send_pending()
    {
        if (!listening_ || in_flight_ || pending_.empty()) return;
        std::string sql;
        const std::string channel = quote_identifier(options_.channel);
        for (const auto& m : pending_) {
            char* literal = PQescapeLiteral(conn_, m.data(), m.size());
            if (!literal) return lost("cannot quote a message: " + last_error());
            sql.append("NOTIFY ").append(channel).append(", ").append(literal).append(";");
            PQfreemem(literal);
        }
        pending_.clear();
        send(sql);
    }

    void send(const std::string& sql)
    {
        if (!PQsendQuery(conn_, sql.c_str())) return lost("cannot send: " + last_error());
        in_flight_ = true;
        in_flight_since_ = clock::now();
        flush();
    }

    void flush()
    {
        const int r = PQflush(conn_);
        if (r < 0) return lost("cannot send: " + last_error());
        if (r == 0) return;
        descriptor_.async_wait(asio::posix::stream_descriptor::wait_write,
                               [self = shared_from_this(), g = generation_](boost::system::error_code ec) {
                                   if (!ec && g == self->generation_) self->flush();
                               });
    }

    // The heartbeat: an idle link is probed; a query left unanswered for a
    // whole interval means the link is dead.
    void beat()
    {
        heartbeat_.expires_after(options_.heartbeat);
        heartbeat_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || self->stopped_) return;
            if (self->listening_) {
                if (!self->in_flight_) self->send("SELECT 1");
                else if (clock::now() - self->in_flight_since_ >= self->options_.heartbeat)
                    self->lost("no answer for " + std::to_string(self->options_.heartbeat.count()) + " ms");
            }
            self->beat();
        });
    }

    void lost(const std::string& why)
    {
        log(why);
        book_.lost();
        teardown();
        if (stopped_) return;
        timer_.expires_after(delay_);
        delay_ = std::min(delay_ * 2, options_.reconnect_max);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->connect();
        });
    }

    void teardown() noexcept
    {
        ++generation_;
        release_socket();
        if (conn_) PQfinish(std::exchange(conn_, nullptr));
        in_flight_ = false;
        listening_ = false;
        pending_.clear(); // counted as published; the catch_up after the reconnect covers them
    }

    // libpq owns the socket: the descriptor only waits on it, never closes it.
    void adopt_socket()
    {
        release_socket();
        boost::system::error_code ec;
        descriptor_.assign(PQsocket(conn_), ec);
    }
    void release_socket() noexcept
    {
        if (!descriptor_.is_open()) return;
        boost::system::error_code ec;
        descriptor_.cancel(ec);
        (void)descriptor_.release();
    }

    std::string last_error() const
    {
        std::string e = conn_ ? PQerrorMessage(conn_) : "out of memory";
        while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
        return e;
    }

    asio::strand<asio::any_io_executor> strand_;
    bus_options options_;
    asio::steady_timer timer_;     ///< connect timeout, then reconnect delay
    asio::steady_timer heartbeat_;
    asio::posix::stream_descriptor descriptor_;
    std::chrono::milliseconds delay_;
    PGconn* conn_ = nullptr;
    std::uint64_t generation_ = 0; ///< bumped per connection: stale handlers do nothing
    bool listening_ = false;
    bool in_flight_ = false;
    bool stopped_ = false;
    clock::time_point in_flight_since_{};
    std::vector<std::string> pending_;
    bus_listener* listener_ = nullptr;
    incsync::detail::bus_book book_;
};

} // namespace detail

/// `notification_bus` over PostgreSQL LISTEN/NOTIFY.
class notification_bus {
public:
    notification_bus(boost::asio::any_io_executor executor, bus_options options)
        : link_(std::make_shared<detail::listen_notify_link>(std::move(executor), std::move(options)))
    {
    }
    notification_bus(const notification_bus&) = delete;
    notification_bus& operator=(const notification_bus&) = delete;
    ~notification_bus() { stop(); }

    /// Connects in the background (reconnecting on its own until `stop`);
    /// `listener` must outlive the bus.
    void start(bus_listener& listener) { link_->start(listener); }
    void publish(const notification_ptr& n) { link_->publish(n); }
    void stop() { link_->stop(); }
    bus_stats stats() const { return link_->stats(); }

private:
    std::shared_ptr<detail::listen_notify_link> link_;
};

static_assert(incsync::notification_bus<notification_bus>);

} // namespace incsync::postgres

#endif
