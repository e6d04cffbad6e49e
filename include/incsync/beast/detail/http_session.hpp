// One HTTP/1.1 connection: reads requests with limits, answers them through
// the handler, holds long-poll checks open, and hands the socket over to a
// push_session on a WebSocket upgrade or an SSE request.
#ifndef INCSYNC_BEAST_DETAIL_HTTP_SESSION_HPP
#define INCSYNC_BEAST_DETAIL_HTTP_SESSION_HPP

#include <incsync/beast/detail/permessage_deflate.hpp>
#include <incsync/beast/detail/push_session.hpp>
#include <incsync/beast/detail/shared_state.hpp>
#include <incsync/beast/detail/websocket_frame.hpp>
#include <incsync/detail/query_string.hpp>
#include <incsync/server/handler.hpp>
#include <incsync/server/static_files.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/range/iterator_range.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace incsync::beast::detail {

namespace http = boost::beast::http;

/// What sessions of a server over `Store` share: the state and the handler.
template <server_store Store>
class server_core : public shared_state {
public:
    server_core(boost::asio::any_io_executor executor, Store& store, server_options options)
        : shared_state(std::move(executor), with_hub_hook(std::move(options), this), [&store] { return store.now(); }),
          api(store, this->options().api)
    {
        if (!this->options().web_root.empty()) web.emplace(this->options().web_root);
    }

    incsync::server::handler<Store> api;
    std::optional<incsync::server::static_files> web; ///< server_options::web_root

    /// `GET /metrics` for an admin: the server's counters and the handler's,
    /// in the Prometheus text format.
    http::response<http::string_body> metrics_response(const incsync::server::request& req,
                                                       const std::optional<incsync::server::principal>& who)
    {
        using incsync::server::error_response;
        if (req.method() != http::verb::get) return incsync::server::method_not_allowed("GET", "use GET");
        if (!who) return error_response(http::status::unauthorized, "unauthorized", "missing or unknown token");
        if (who->role != incsync::server::role::admin)
            return error_response(http::status::forbidden, "forbidden", "admin token required");
        incsync::metrics::exposition e;
        write_metrics(e);
        api.write_metrics(e);
        if (this->options().extra_metrics) this->options().extra_metrics(e);
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, incsync::metrics::exposition::content_type);
        res.set(http::field::cache_control, "no-store");
        res.body() = std::move(e).take();
        res.prepare_payload();
        return res;
    }

private:
    // A commit is published before its response is built (PROTOCOL.md section 4).
    static server_options with_hub_hook(server_options o, server_core* self)
    {
        o.api.on_commit = [self, next = std::move(o.api.on_commit), bus = o.on_publish](const change& c) {
            const auto n = wire::make_notification(c); // encoded once, for the clients and the bus
            self->hub().publish(n);
            if (bus) bus(n);
            if (next) next(c);
        };
        if (!o.api.log) o.api.log = o.log;
        return o;
    }
};

inline std::string endpoint_text(const tcp::socket& s)
{
    boost::system::error_code ec;
    const auto ep = s.remote_endpoint(ec);
    if (ec) return "?";
    return ep.address().to_string() + ':' + std::to_string(ep.port());
}

/// A request target fit for a log line: the value of every `token=`
/// parameter replaced by `***` (tokens never reach logs).
inline std::string loggable_target(std::string_view target)
{
    std::string out(target.substr(0, 512));
    const auto query = out.find('?');
    if (query == std::string::npos) return out;
    for (std::size_t at = query; at < out.size();) {
        const auto begin = at + 1;
        auto end = out.find('&', begin);
        if (end == std::string::npos) end = out.size();
        const auto pair = std::string_view(out).substr(begin, end - begin);
        const auto eq = pair.find('=');
        // The key as parse_target decodes it: `%74oken=` is a token too.
        if (eq != std::string_view::npos && incsync::detail::percent_decode(pair.substr(0, eq)) == "token") {
            out.replace(begin + eq + 1, end - begin - eq - 1, "***");
            end = begin + eq + 4;
        }
        at = end;
    }
    return out;
}

template <server_store Store>
class http_session final : public session_base,
                           public subscriber,
                           public std::enable_shared_from_this<http_session<Store>> {
public:
    /// Without a permit the connection is over its address's cap: its
    /// request is read (briefly) only to be answered 429.
    http_session(tcp::socket socket, std::shared_ptr<server_core<Store>> core, std::optional<connection_permit> permit)
        : peer_(endpoint_text(socket)), stream_(std::move(socket)), core_(std::move(core)), permit_(std::move(permit))
    {
        boost::system::error_code ec;
        stream_.socket().non_blocking(true, ec); // responses are tried at once (see send)
    }

    ~http_session() override
    {
        subscription_.reset(); // first: the hub may be inside `deliver`
        if (registered_) {
            core_->counters().http_connections--;
            core_->remove(this);
        }
    }

    void start()
    {
        if (!core_->add(this->shared_from_this())) return;
        registered_ = true;
        core_->counters().http_connections++;
        do_read();
    }

    void shutdown() override
    {
        asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
    }

    // A long poll's topic saw a change: check again (on the strand).
    void deliver(const notification_ptr&) override
    {
        if (woken_.exchange(true)) return;
        if (auto self = this->weak_from_this().lock())
            asio::post(stream_.get_executor(), [self = std::move(self)] { self->on_poll_wake(); });
    }

private:
    using clock = std::chrono::steady_clock;
    static constexpr std::string_view websocket_prefix = "/ws/sync/";
    static constexpr std::string_view events_path = "/api/v1/sync/events";
    static constexpr std::string_view metrics_path = "/metrics";
    static constexpr std::size_t max_spare_body = 512 * 1024;
    static constexpr std::size_t first_read_bytes = 4096;

    const server_options& options() const noexcept { return core_->options(); }

    void do_read()
    {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
        // The larger limit until the target is known (Beast checks Content-Length
        // against it when the header completes); on_header sets the exact one.
        parser_->body_limit(std::max(options().api.max_body_bytes, options().api.max_image_bytes));
        if (buffer_.size() != 0 || !permit_) return read_header(); // pipelined, or refused: no idle wait
        // Idle until the first byte; from there the header_timeout runs.
        stream_.expires_after(options().idle_timeout);
        stream_.async_read_some(buffer_.prepare(first_read_bytes),
                                [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                    if (ec) return self->close();
                                    self->buffer_.commit(n);
                                    self->read_header();
                                });
    }

    void read_header()
    {
        stream_.expires_after(options().header_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(boost::system::error_code ec)
    {
        if (ec) return on_read_error(ec);
        const auto& req = parser_->get();
        // A coding after `chunked` leaves the body's end to the connection's
        // close: a proxy in front may see another request boundary than ours
        // (smuggling). RFC 9112 section 6.3: answer 400 and close.
        if (req.count(http::field::transfer_encoding) != 0 && !parser_->chunked())
            return refuse(http::status::bad_request, "bad_request",
                          "malformed HTTP request: chunked must be the final transfer coding");
        const auto target = std::string_view(req.target().data(), req.target().size());
        const auto path = target.substr(0, target.find('?'));
        const bool image_upload = req.method() == http::verb::put && path.ends_with("/image");
        const auto limit = image_upload ? options().api.max_image_bytes : options().api.max_body_bytes;
        parser_->body_limit(limit);
        if (const auto length = parser_->content_length(); length && *length > limit)
            return refuse(http::status::payload_too_large, "payload_too_large", "request body too large");
        if (req[http::field::expect] == "100-continue") {
            // curl and others wait for this before sending a large body.
            static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
            return asio::async_write(stream_, asio::buffer(go_on),
                                     [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                         if (ec) return self->close();
                                         self->read_body();
                                     });
        }
        read_body();
    }

    void read_body()
    {
        stream_.expires_after(options().idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec) return self->on_read_error(ec);
                             self->req_ = self->parser_->release();
                             self->parser_.reset();
                             self->dispatch();
                         });
    }

    void on_read_error(boost::system::error_code ec)
    {
        const bool parse_error = ec.category() == http::make_error_code(http::error::body_limit).category();
        if (ec == http::error::end_of_stream || !parse_error)
            return close(); // the peer left, went quiet, or the socket failed
        if (ec == http::error::body_limit)
            return refuse(http::status::payload_too_large, "payload_too_large", "request body too large");
        if (ec == http::error::header_limit)
            return refuse(http::status::request_header_fields_too_large, "header_too_large",
                          "request headers too large");
        refuse(http::status::bad_request, "bad_request", "malformed HTTP request: " + ec.message());
    }

    // An error after which the rest of the stream cannot be trusted: answer, then close.
    void refuse(http::status status, std::string_view code, const std::string& message)
    {
        core_->log(peer_ + ": " + std::to_string(static_cast<unsigned>(status)) + ' ' + message);
        send_and_close(incsync::server::error_response(status, code, message));
    }

    void send_and_close(incsync::server::response res)
    {
        res.keep_alive(false);
        send(std::move(res));
    }

    void dispatch()
    {
        core_->counters().requests++;
        if (!permit_) {
            core_->log(peer_ + ": refused: over max_connections_per_address");
            auto res = incsync::server::error_response(http::status::too_many_requests, "rate_limited",
                                                       "too many connections from this address; retry later");
            res.set(http::field::retry_after, "1");
            return send_and_close(std::move(res));
        }
        const auto target = incsync::detail::parse_target(std::string_view(req_.target().data(), req_.target().size()));
        const bool upgrade = boost::beast::websocket::is_upgrade(req_);
        const auto query_token = target.get("token");
        const auto header = req_[http::field::authorization];
        auto token = incsync::server::bearer_token(std::string_view(header.data(), header.size()));
        const bool streaming = upgrade || target.path == events_path;
        if (!token && streaming && query_token) token = query_token; // browsers cannot set headers there
        const auto who = token ? core_->api.authenticate(*token) : std::nullopt;

        if (core_->limiter().enabled()) {
            const std::string key = who ? "token:" + std::string(*token) : "addr:" + peer_.substr(0, peer_.rfind(':'));
            if (const auto wait = core_->limiter().acquire(key)) {
                core_->counters().rate_limited++;
                auto res = incsync::server::error_response(http::status::too_many_requests, "rate_limited",
                                                  "too many requests; retry later");
                res.set(http::field::retry_after, std::to_string(wait));
                return streaming ? refuse_stream(std::move(res)) : send(std::move(res));
            }
        }
        if (target.path.starts_with(websocket_prefix) || target.path == events_path)
            return open_stream(target, who, upgrade);

        if (target.path == metrics_path) return send(core_->metrics_response(req_, who));

        if (core_->web && !target.path.starts_with("/api/"))
            if (auto file = core_->web->serve(req_, target.path)) return send(std::move(*file));

        std::optional<incsync::server::long_poll> wait;
        auto res = core_->api.handle(req_, target, &wait, std::move(spare_body_));
        if (wait) return start_long_poll(*wait);
        send(std::move(res));
    }

    // ---- WebSocket upgrade and SSE ---------------------------------------

    void open_stream(const incsync::detail::target& t, const std::optional<incsync::server::principal>& who, bool upgrade)
    {
        const bool websocket = t.path.starts_with(websocket_prefix);
        const std::string_view register_id =
            websocket ? t.path.substr(websocket_prefix.size()) : t.get("cash_register_id").value_or("");
        if (req_.method() != http::verb::get) return refuse_stream(incsync::server::method_not_allowed("GET", "use GET"));
        if (t.malformed) return refuse_stream(http::status::bad_request, "bad_request", "malformed query string");
        if (websocket && (register_id.empty() || register_id.size() > 128 || register_id.find('/') != std::string_view::npos))
            return refuse_stream(http::status::not_found, "not_found", "no such endpoint");
        if (websocket && !upgrade)
            return refuse_stream(http::status::bad_request, "bad_request", "expected a WebSocket upgrade");
        if (!who) return refuse_stream(http::status::unauthorized, "unauthorized", "missing or unknown token");

        std::optional<std::int64_t> topic;
        if (auto s = t.get("store_id"); s && !s->empty()) {
            topic = incsync::detail::parse_int64(*s);
            if (!topic) return refuse_stream(http::status::bad_request, "bad_request", "store_id must be an integer");
        }
        if (who->role == incsync::server::role::cash_register) {
            if (topic && topic != who->store_id)
                return refuse_stream(http::status::forbidden, "forbidden", "this token is for another store");
            topic = who->store_id;
        }

        push_session::setup s;
        s.topic = topic;
        s.label = peer_ + (websocket ? " ws " : " sse ") + "register=" + std::string(register_id.empty() ? "-" : register_id)
                + " store=" + (topic ? std::to_string(*topic) : std::string("all"));
        if (websocket) {
            const auto version = req_[http::field::sec_websocket_version];
            if (version != "13") {
                auto res = incsync::server::error_response(http::status::upgrade_required, "bad_request",
                                                  "only WebSocket version 13 is supported");
                res.set(http::field::sec_websocket_version, "13");
                return refuse_stream(std::move(res));
            }
            const auto key = req_[http::field::sec_websocket_key];
            if (!valid_websocket_key(std::string_view(key.data(), key.size())))
                return refuse_stream(http::status::bad_request, "bad_request", "bad Sec-WebSocket-Key");
            s.kind = stream_kind::websocket;
            s.preamble = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: "
                       + websocket_accept(std::string_view(key.data(), key.size())) + "\r\n";
            if (core_->options().permessage_deflate.enabled) {
                std::string offers; // every Sec-WebSocket-Extensions header, as one list
                for (const auto& h : boost::make_iterator_range(req_.equal_range(http::field::sec_websocket_extensions)))
                    offers.append(offers.empty() ? "" : ",").append(h.value().data(), h.value().size());
                if ((s.deflate = negotiate_permessage_deflate(offers)))
                    s.preamble += "Sec-WebSocket-Extensions: " + s.deflate->response + "\r\n";
            }
            s.preamble += "\r\n";
        } else {
            s.kind = stream_kind::event_stream;
            // Close-delimited body: no chunk framing around each event.
            s.preamble = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                         "Connection: close\r\nX-Accel-Buffering: no\r\n\r\nretry: 3000\n\n";
        }
        s.leftover = boost::beast::buffers_to_string(buffer_.data());
        s.permit = std::move(*permit_);
        stream_.expires_never();
        auto session = std::make_shared<push_session>(stream_.release_socket(), core_, std::move(s));
        session->start();
    }

    // A refused WebSocket or SSE request ends its connection: the client asked
    // for a stream, not a keep-alive HTTP session, and would only retry the
    // stream. Logged as a connection event.
    void refuse_stream(incsync::server::response res)
    {
        core_->log(peer_ + ": stream refused: " + std::to_string(res.result_int()) + ' ' + loggable_target(req_.target()));
        send_and_close(std::move(res));
    }

    void refuse_stream(http::status status, std::string_view code, std::string_view message)
    {
        refuse_stream(incsync::server::error_response(status, code, message));
    }

    // ---- long poll ---------------------------------------------------------

    void start_long_poll(const incsync::server::long_poll& lp)
    {
        core_->counters().long_polls++;
        polling_ = true;
        subscription_ = core_->hub().subscribe(*this, lp.store_id);
        poll_timer_.emplace(stream_.get_executor());
        poll_timer_->expires_after(lp.wait);
        poll_timer_->async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->finish_long_poll(self->core_->api.handle(self->req_));
        });
        // A commit between the first check and subscribing is caught here.
        woken_ = true;
        on_poll_wake();
    }

    void on_poll_wake()
    {
        woken_ = false;
        if (!polling_) return;
        std::optional<incsync::server::long_poll> again;
        auto res = core_->api.handle(req_, &again);
        if (!again) finish_long_poll(std::move(res));
    }

    void finish_long_poll(incsync::server::response res)
    {
        if (!polling_) return;
        polling_ = false;
        core_->counters().long_polls--;
        subscription_.reset();
        poll_timer_.reset();
        send(std::move(res));
    }

    // ---- writing -------------------------------------------------------

    void send(incsync::server::response res)
    {
        const auto status = res.result_int();
        if (options().log_requests || status >= 500)
            core_->log(peer_ + ": " + std::string(req_.method_string()) + ' ' + loggable_target(req_.target()) + ' '
                       + std::to_string(status));
        res_ = std::move(res);
        serializer_.emplace(*res_);
        // A client that keeps up takes the whole response at once: written
        // now (the socket is non-blocking), with no asynchronous operation and
        // no timer; only the rest, if any, waits for the socket.
        boost::system::error_code ec;
        http::write(stream_.socket(), *serializer_, ec);
        if (ec != asio::error::would_block && ec != asio::error::try_again) return on_write(ec);
        stream_.expires_after(options().idle_timeout);
        http::async_write(stream_, *serializer_,
                          [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->on_write(ec);
                          });
    }

    void on_write(boost::system::error_code ec)
    {
        serializer_.reset();
        const bool keep_alive = res_->keep_alive();
        // The body's memory serves the next response (bounded: a huge page's is dropped).
        if (res_->body().capacity() <= max_spare_body) spare_body_ = std::move(res_->body());
        res_.reset();
        req_ = {};
        if (ec || !keep_alive) return close();
        do_read();
    }

    void close()
    {
        if (polling_) {
            polling_ = false;
            core_->counters().long_polls--;
        }
        subscription_.reset();
        poll_timer_.reset();
        boost::system::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

    std::string peer_;
    boost::beast::tcp_stream stream_;
    std::shared_ptr<server_core<Store>> core_;
    std::optional<connection_permit> permit_; ///< nullopt: over the address's cap
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    incsync::server::request req_;
    std::optional<incsync::server::response> res_;
    std::optional<http::response_serializer<http::string_body>> serializer_;
    std::string spare_body_;
    notification_hub::subscription subscription_;
    std::optional<asio::steady_timer> poll_timer_;
    std::atomic<bool> woken_{false};
    bool polling_ = false;
    bool registered_ = false;
};

} // namespace incsync::beast::detail

#endif
