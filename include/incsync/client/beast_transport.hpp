// The network transport of the client: HTTP/1.1 requests over a small pool of
// keep-alive connections and the WebSocket notification stream, on Beast,
// written as coroutines. Models `incsync::client::transport`.
#ifndef INCSYNC_CLIENT_BEAST_TRANSPORT_HPP
#define INCSYNC_CLIENT_BEAST_TRANSPORT_HPP

#include <incsync/client/detail/http_result.hpp>
#include <incsync/client/transport.hpp>
#include <incsync/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::client {

/// Where the server is: `http://host:port[/base]` (`ws://` is accepted too).
struct server_url {
    std::string host;
    std::string port = "80";
    std::string base; ///< path prefix without trailing slash, usually empty
};

/// Parses a server URL; a malformed one is `error::wrong_type` with the reason.
inline result<server_url> parse_server_url(std::string_view url)
{
    server_url out;
    for (std::string_view scheme : {"http://", "ws://"}) {
        if (url.starts_with(scheme)) {
            url.remove_prefix(scheme.size());
            break;
        }
    }
    if (url.starts_with("https://") || url.starts_with("wss://"))
        return error_info(error::wrong_type, "TLS URLs are not supported; use http://");
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view base = url.substr(slash);
        while (base.ends_with('/')) base.remove_suffix(1);
        out.base = std::string(base);
    }
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
        std::string_view port = authority.substr(colon + 1);
        unsigned value = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
            return error_info(error::wrong_type, "bad port in server URL");
        out.port = std::string(port);
        authority = authority.substr(0, colon);
    }
    if (authority.empty()) return error_info(error::wrong_type, "no host in server URL");
    out.host = std::string(authority);
    return out;
}

struct beast_transport_options {
    std::size_t max_idle_connections = 4;   ///< keep-alive connections kept for reuse
    std::size_t max_body_bytes = 64u << 20; ///< larger responses are failures
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
    /// WebSocket heartbeat: a ping after half of it without traffic, the
    /// connection declared dead after all of it without an answer.
    std::chrono::milliseconds heartbeat{std::chrono::seconds(20)};
    std::string user_agent = "incsync-client";
    /// Sends `Accept-Encoding: gzip`: a large catch-up travels about 11 times
    /// smaller (docs/benchmarks.md), at some CPU to inflate it.
    bool accept_gzip = true;
};

/// The WebSocket notification stream of `beast_transport`.
class beast_stream {
public:
    using websocket = boost::beast::websocket::stream<boost::beast::tcp_stream>;

    explicit beast_stream(websocket ws) : ws_(std::move(ws)) {}

    boost::asio::awaitable<stream_read> read()
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        buffer_.clear();
        auto [ec, n] = co_await ws_.async_read(buffer_, as_tuple(use_awaitable));
        if (ec) co_return stream_read{std::nullopt, ec.message()};
        co_return stream_read{boost::beast::buffers_to_string(buffer_.data()), {}};
    }

    void close() noexcept
    {
        boost::system::error_code ec;
        boost::beast::get_lowest_layer(ws_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        boost::beast::get_lowest_layer(ws_).socket().close(ec);
    }

private:
    websocket ws_;
    boost::beast::flat_buffer buffer_;
};

/// HTTP + WebSocket to one server. Use from one strand (the client's).
class beast_transport {
public:
    using stream_type = beast_stream;

    explicit beast_transport(server_url url, beast_transport_options options = {})
        : url_(std::move(url)), options_(std::move(options))
    {
        host_header_ = url_.host + ":" + url_.port;
    }

    const server_url& url() const noexcept { return url_; }

    boost::asio::awaitable<http_result> get(std::string target, const request_options& o)
    {
        return exchange(boost::beast::http::verb::get, std::move(target), {}, o);
    }

    /// POSTs a JSON body. Retried once on a fresh connection like a GET, so
    /// only for requests that may arrive twice (an analytics report replaces
    /// the register's previous one).
    boost::asio::awaitable<http_result> post(std::string target, std::string json, const request_options& o)
    {
        return exchange(boost::beast::http::verb::post, std::move(target), std::move(json), o);
    }

    boost::asio::awaitable<stream_open<beast_stream>> open_stream(std::string target, const request_options& o)
    {
        namespace websocket = boost::beast::websocket;
        namespace http = boost::beast::http;
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        const auto timeout = o.timeout; // `o` need not outlive the first suspension
        const std::string token(o.token);
        auto ex = co_await boost::asio::this_coro::executor;
        stream_open<beast_stream> out;
        beast_stream::websocket ws(ex);
        busy_guard busy(*this, boost::beast::get_lowest_layer(ws));
        if (auto failure = co_await connect(boost::beast::get_lowest_layer(ws), timeout); !failure.empty()) {
            out.refusal.failure = std::move(failure);
            co_return out;
        }
        // From here on the WebSocket's own timeouts apply (Beast's rule:
        // no tcp_stream deadline under a websocket::stream).
        boost::beast::get_lowest_layer(ws).expires_never();
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = timeout;
        timeouts.idle_timeout = options_.heartbeat;
        timeouts.keep_alive_pings = true;
        ws.set_option(timeouts);
        ws.set_option(websocket::stream_base::decorator(
            [token, agent = options_.user_agent](websocket::request_type& req) {
                req.set(http::field::user_agent, agent);
                if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
            }));
        websocket::response_type res;
        auto [ec] = co_await ws.async_handshake(res, host_header_, url_.base + target, as_tuple(use_awaitable));
        if (ec) {
            // Only a declined upgrade is an answer: after a reset or a timeout
            // `res` is Beast's empty response, whose status means nothing.
            out.refusal.status = ec == websocket::error::upgrade_declined ? res.result_int() : 0;
            out.refusal.body = std::move(res.body());
            out.refusal.failure = "websocket handshake: " + ec.message();
            co_return out;
        }
        out.stream = std::make_shared<beast_stream>(std::move(ws));
        co_return out;
    }

    /// Drops the pooled connections.
    void cancel_idle() noexcept { idle_.clear(); }

    /// Drops the pooled connections and aborts the exchanges in flight.
    void cancel_all() noexcept
    {
        idle_.clear();
        for (auto* s : busy_) {
            boost::system::error_code ec;
            s->socket().close(ec);
        }
    }

private:
    boost::asio::awaitable<http_result> exchange(boost::beast::http::verb verb, std::string target, std::string body,
                                                 const request_options& o)
    {
        namespace http = boost::beast::http;
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        // Everything `o` views is copied before the first suspension.
        http::request<http::string_body> req{verb, url_.base + target, 11};
        req.set(http::field::host, host_header_);
        req.set(http::field::user_agent, options_.user_agent);
        if (!o.token.empty()) req.set(http::field::authorization, "Bearer " + std::string(o.token));
        if (!o.if_none_match.empty()) req.set(http::field::if_none_match, o.if_none_match);
        if (options_.accept_gzip) req.set(http::field::accept_encoding, "gzip");
        if (verb == http::verb::post) {
            req.set(http::field::content_type, "application/json");
            req.body() = std::move(body);
        }
        req.keep_alive(true);
        req.prepare_payload();
        const auto timeout = o.timeout;
        auto ex = co_await boost::asio::this_coro::executor;

        // A pooled connection may have been closed by the server meanwhile:
        // one retry on a fresh connection.
        for (int attempt = 0;; ++attempt) {
            std::unique_ptr<connection> c = take_idle();
            const bool reused = c != nullptr;
            if (!c) c = std::make_unique<connection>(ex);
            busy_guard busy(*this, c->stream);
            if (!reused) {
                if (auto failure = co_await connect(c->stream, timeout); !failure.empty())
                    co_return no_answer(std::move(failure));
            }
            c->stream.expires_after(timeout);
            auto [wec, written] = co_await http::async_write(c->stream, req, as_tuple(use_awaitable));
            if (wec) {
                if (reused && attempt == 0) continue;
                co_return no_answer("write: " + wec.message());
            }
            http::response_parser<http::string_body> parser;
            parser.body_limit(options_.max_body_bytes);
            auto [rec, read] = co_await http::async_read(c->stream, c->buffer, parser, as_tuple(use_awaitable));
            if (rec) {
                if (reused && attempt == 0 && !parser.got_some()) continue;
                co_return no_answer("read: " + rec.message());
            }
            const bool keep_alive = parser.get().keep_alive();
            http_result out = detail::to_http_result(parser.release(), options_.max_body_bytes);
            if (keep_alive) put_idle(std::move(c));
            co_return out;
        }
    }

    // Registers a socket in use, so that `cancel_all` can abort it.
    struct busy_guard {
        busy_guard(beast_transport& t, boost::beast::tcp_stream& s) : t_(t), s_(&s) { t_.busy_.push_back(s_); }
        ~busy_guard() { std::erase(t_.busy_, s_); }
        busy_guard(const busy_guard&) = delete;
        busy_guard& operator=(const busy_guard&) = delete;
        beast_transport& t_;
        boost::beast::tcp_stream* s_;
    };

    struct connection {
        explicit connection(const boost::asio::any_io_executor& ex) : stream(ex) {}
        boost::beast::tcp_stream stream;
        boost::beast::flat_buffer buffer;
    };

    /// Connects `s`; returns "" on success, else what failed.
    boost::asio::awaitable<std::string> connect(boost::beast::tcp_stream& s, std::chrono::milliseconds timeout)
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        boost::asio::ip::tcp::resolver resolver(s.get_executor());
        auto [rec, endpoints] = co_await resolver.async_resolve(url_.host, url_.port, as_tuple(use_awaitable));
        if (rec) co_return "resolve: " + rec.message();
        s.expires_after(std::min(timeout, options_.connect_timeout));
        auto [cec, ep] = co_await s.async_connect(endpoints, as_tuple(use_awaitable));
        if (cec) co_return "connect: " + cec.message();
        boost::system::error_code ignored;
        s.socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
        co_return std::string();
    }

    std::unique_ptr<connection> take_idle()
    {
        if (idle_.empty()) return nullptr;
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
    }

    void put_idle(std::unique_ptr<connection> c)
    {
        if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(c));
    }

    server_url url_;
    beast_transport_options options_;
    std::string host_header_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::vector<boost::beast::tcp_stream*> busy_;
};

} // namespace incsync::client

#endif
