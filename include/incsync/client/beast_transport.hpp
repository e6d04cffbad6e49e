// The network transport of the client: HTTP/1.1 requests over a small pool of
// keep-alive connections and the WebSocket notification stream, on Beast,
// written as coroutines, to one server or to the first of several instances
// that answers. Models `incsync::client::transport`.
#ifndef INCSYNC_CLIENT_BEAST_TRANSPORT_HPP
#define INCSYNC_CLIENT_BEAST_TRANSPORT_HPP

#include <incsync/detail/asio_coroutines.hpp>
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

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

INCSYNC_BEGIN_ASIO_COROUTINES

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

/// `http://host:port/base`, for logs and status lines.
inline std::string to_string(const server_url& u) { return "http://" + u.host + ":" + u.port + u.base; }

/// Parses the URLs of several server instances sharing one store, in order of
/// preference; each as `parse_server_url`. An empty list, or an empty entry,
/// is `error::wrong_type`.
inline result<std::vector<server_url>> parse_server_urls(std::span<const std::string> urls)
{
    if (urls.empty()) return error_info(error::wrong_type, "no server URL");
    std::vector<server_url> out;
    out.reserve(urls.size());
    for (const auto& u : urls) {
        if (u.empty()) return error_info(error::wrong_type, "empty server URL in the list");
        auto parsed = parse_server_url(u);
        if (!parsed) return parsed.error();
        out.push_back(std::move(*parsed));
    }
    return out;
}

/// The same from one comma-separated list (`http://a:8080,http://b:8080`;
/// blanks around the commas are ignored).
inline result<std::vector<server_url>> parse_server_urls(std::string_view comma_separated)
{
    std::vector<std::string> items;
    for (;;) {
        const auto comma = comma_separated.find(',');
        std::string_view item = comma_separated.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        comma_separated.remove_prefix(comma + 1);
    }
    if (items.size() == 1 && items.front().empty()) items.clear(); // "" is no URL, not an empty one
    return parse_server_urls(std::span<const std::string>(items));
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

/// HTTP + WebSocket to one server, or to one of several instances that share
/// a store (same data, same cursors: a cursor from one is valid on another).
///
/// Requests and the notification stream go to the current URL, the first one
/// at the start. When a connection to it cannot be made or dies before any
/// answer (refused, timed out, reset), the transport makes the next URL
/// current, drops the pooled connections of the one that failed and retries
/// the same request there: each URL at most once per request, so a request
/// fails (`status == 0`) only when every URL failed. An answer, even a 4xx or
/// 5xx, is never a reason to move. It does not move back by itself: the next
/// URL becomes current only when the current one fails in turn.
///
/// Thread safety: use from one strand (the client's); `current_url`,
/// `current_index`, `urls` and `failovers` from any thread.
class beast_transport {
public:
    using stream_type = beast_stream;

    explicit beast_transport(server_url url, beast_transport_options options = {})
        : beast_transport(std::vector<server_url>{std::move(url)}, std::move(options))
    {
    }

    /// `urls` in order of preference. Throws `std::invalid_argument` when it
    /// is empty (`parse_server_urls` refuses an empty list before).
    explicit beast_transport(std::vector<server_url> urls, beast_transport_options options = {})
        : urls_(std::move(urls)), options_(std::move(options))
    {
        if (urls_.empty()) throw std::invalid_argument("beast_transport: no server URL");
        host_headers_.reserve(urls_.size());
        for (const auto& u : urls_) host_headers_.push_back(u.host + ":" + u.port);
    }

    /// Where requests go now. Any thread; the reference stays valid.
    const server_url& current_url() const noexcept { return urls_[current_index()]; }
    /// The index of `current_url()` in `urls()`. Any thread.
    std::size_t current_index() const noexcept { return position_.index.load(std::memory_order_relaxed); }
    /// Every URL, in order of preference. Any thread.
    std::span<const server_url> urls() const noexcept { return urls_; }
    /// How many times the transport moved to another URL. Any thread.
    std::uint64_t failovers() const noexcept { return position_.moves.load(std::memory_order_relaxed); }
    /// The current URL (as `current_url`).
    const server_url& url() const noexcept { return current_url(); }

    boost::asio::awaitable<http_result> get(std::string target, const request_options& o)
    {
        return exchange(boost::beast::http::verb::get, std::move(target), {}, o);
    }

    /// POSTs a JSON body. Retried once on a fresh connection like a GET, and
    /// on the next URL when no answer came, so only for requests that may
    /// arrive twice (an analytics report replaces the register's previous one).
    boost::asio::awaitable<http_result> post(std::string target, std::string json, const request_options& o)
    {
        return exchange(boost::beast::http::verb::post, std::move(target), std::move(json), o);
    }

    boost::asio::awaitable<stream_open<beast_stream>> open_stream(std::string target, const request_options& o)
    {
        const auto timeout = o.timeout; // `o` need not outlive the first suspension
        const std::string token(o.token);
        const std::size_t first = current_index();
        stream_open<beast_stream> out;
        for (std::size_t k = 0; k < urls_.size(); ++k) {
            const std::size_t at = (first + k) % urls_.size();
            out = co_await open_stream_at(at, target, token, timeout);
            // A stream, or a refusal the server answered (401, 503...): done.
            if (out.stream || out.refusal.answered()) co_return out;
            move_from(at);
        }
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
    boost::asio::awaitable<stream_open<beast_stream>> open_stream_at(std::size_t at, const std::string& target,
                                                                     const std::string& token,
                                                                     std::chrono::milliseconds timeout)
    {
        namespace websocket = boost::beast::websocket;
        namespace http = boost::beast::http;
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        auto ex = co_await boost::asio::this_coro::executor;
        stream_open<beast_stream> out;
        beast_stream::websocket ws(ex);
        busy_guard busy(*this, boost::beast::get_lowest_layer(ws));
        if (auto failure = co_await connect(at, boost::beast::get_lowest_layer(ws), timeout); !failure.empty()) {
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
        auto [ec] = co_await ws.async_handshake(res, host_headers_[at], urls_[at].base + target,
                                                as_tuple(use_awaitable));
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

    boost::asio::awaitable<http_result> exchange(boost::beast::http::verb verb, std::string target, std::string body,
                                                 const request_options& o)
    {
        namespace http = boost::beast::http;
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        const std::size_t n = urls_.size();
        const std::size_t first = current_index();
        // Everything `o` views is copied before the first suspension.
        http::request<http::string_body> req{verb, urls_[first].base + target, 11};
        req.set(http::field::host, host_headers_[first]);
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

        std::string failure;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t at = (first + k) % n;
            if (k != 0) { // failing over: the same request, addressed to the next URL
                req.target(urls_[at].base + target);
                req.set(http::field::host, host_headers_[at]);
            }
            // A pooled connection may have been closed by the server meanwhile:
            // one retry on a fresh connection, to the same URL.
            for (int attempt = 0;; ++attempt) {
                std::unique_ptr<connection> c = attempt == 0 ? take_idle(at) : nullptr;
                const bool reused = c != nullptr;
                if (!c) c = std::make_unique<connection>(ex, at);
                busy_guard busy(*this, c->stream);
                if (!reused) {
                    failure = co_await connect(at, c->stream, timeout);
                    if (!failure.empty()) break;
                }
                c->stream.expires_after(timeout);
                auto [wec, written] = co_await http::async_write(c->stream, req, as_tuple(use_awaitable));
                if (wec) {
                    if (reused) continue;
                    failure = "write: " + wec.message();
                    break;
                }
                http::response_parser<http::string_body> parser;
                parser.body_limit(options_.max_body_bytes);
                auto [rec, read] = co_await http::async_read(c->stream, c->buffer, parser, as_tuple(use_awaitable));
                if (rec) {
                    // Part of an answer came: the server is there, this is
                    // no reason to ask another.
                    if (parser.got_some()) co_return no_answer("read: " + rec.message());
                    if (reused) continue;
                    failure = "read: " + rec.message();
                    break;
                }
                const bool keep_alive = parser.get().keep_alive();
                http_result out = detail::to_http_result(parser.release(), options_.max_body_bytes);
                if (keep_alive) put_idle(std::move(c));
                co_return out;
            }
            move_from(at);
        }
        if (n > 1) failure += " (every server URL failed)";
        co_return no_answer(std::move(failure));
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
        connection(const boost::asio::any_io_executor& ex, std::size_t u) : stream(ex), url(u) {}
        boost::beast::tcp_stream stream;
        boost::beast::flat_buffer buffer;
        std::size_t url; ///< index in `urls_`
    };

    // The current URL, written on the strand and read from any thread
    // (status lines); atomics that still let the transport move.
    struct position {
        std::atomic<std::size_t> index{0};
        std::atomic<std::uint64_t> moves{0};
        position() = default;
        position(position&& o) noexcept
            : index(o.index.load(std::memory_order_relaxed)), moves(o.moves.load(std::memory_order_relaxed))
        {
        }
        position& operator=(position&& o) noexcept
        {
            index.store(o.index.load(std::memory_order_relaxed), std::memory_order_relaxed);
            moves.store(o.moves.load(std::memory_order_relaxed), std::memory_order_relaxed);
            return *this;
        }
    };

    /// Connects `s` to `urls_[at]`; returns "" on success, else what failed.
    boost::asio::awaitable<std::string> connect(std::size_t at, boost::beast::tcp_stream& s,
                                                std::chrono::milliseconds timeout)
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        boost::asio::ip::tcp::resolver resolver(s.get_executor());
        auto [rec, endpoints] = co_await resolver.async_resolve(urls_[at].host, urls_[at].port, as_tuple(use_awaitable));
        if (rec) co_return "resolve: " + rec.message();
        s.expires_after(std::min(timeout, options_.connect_timeout));
        auto [cec, ep] = co_await s.async_connect(endpoints, as_tuple(use_awaitable));
        if (cec) co_return "connect: " + cec.message();
        boost::system::error_code ignored;
        s.socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
        co_return std::string();
    }

    /// `urls_[at]` gave no answer: its pooled connections go (they would
    /// fail the same way), and the next URL becomes current unless another
    /// request already moved on.
    void move_from(std::size_t at) noexcept
    {
        std::erase_if(idle_, [at](const std::unique_ptr<connection>& c) { return c->url == at; });
        if (urls_.size() < 2) return;
        std::size_t expected = at;
        if (position_.index.compare_exchange_strong(expected, (at + 1) % urls_.size(), std::memory_order_relaxed))
            position_.moves.fetch_add(1, std::memory_order_relaxed);
    }

    std::unique_ptr<connection> take_idle(std::size_t at)
    {
        for (auto i = idle_.size(); i-- > 0;) {
            if (idle_[i]->url != at) continue;
            auto c = std::move(idle_[i]);
            idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
            return c;
        }
        return nullptr;
    }

    void put_idle(std::unique_ptr<connection> c)
    {
        // Only the current URL's: a request that had started on a URL the
        // transport has since left does not bring its server back in.
        if (c->url == current_index() && idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(c));
    }

    std::vector<server_url> urls_;
    beast_transport_options options_;
    std::vector<std::string> host_headers_; ///< `host:port` of each URL
    position position_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::vector<boost::beast::tcp_stream*> busy_;
};

} // namespace incsync::client

INCSYNC_END_ASIO_COROUTINES

#endif
