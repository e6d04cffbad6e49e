// The transport concept: what carries a client's pulls and notifications.
// Bindings: `beast_transport` (HTTP keep-alive pool + WebSocket, real sockets)
// and `loopback_transport` (in-process, for tests and benchmarks).
#ifndef INCSYNC_CLIENT_TRANSPORT_HPP
#define INCSYNC_CLIENT_TRANSPORT_HPP

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace incsync::client {

/// The answer to one HTTP request. `status == 0`: no answer came (`failure` says
/// why: refused, reset, timed out); the client counts that as offline.
struct http_result {
    unsigned status = 0;
    std::string body;
    std::string etag;                 ///< the ETag header, when present
    std::string content_type;
    std::size_t wire_bytes = 0;       ///< body bytes as received (before gunzip)
    std::chrono::seconds retry_after{0}; ///< from a 429's Retry-After
    std::string failure;

    bool answered() const noexcept { return status != 0; }
};

/// No answer, because of `why`.
inline http_result no_answer(std::string why)
{
    http_result r;
    r.failure = std::move(why);
    return r;
}

/// Per-request settings. The token travels as `Authorization: Bearer`. The
/// views need only last until the operation's first suspension: a transport
/// copies what it needs before it.
struct request_options {
    std::string_view token{};
    std::string_view if_none_match{}; ///< sends If-None-Match when not empty
    std::chrono::milliseconds timeout{std::chrono::seconds(15)};
};

/// The result of reading a notification stream: a message, or the reason the
/// stream ended.
struct stream_read {
    std::optional<std::string> message;
    std::string failure; ///< set when `message` is empty
};

/// The result of opening a notification stream: the stream, or the server's
/// refusal (`refusal.status`, e.g. 401) or the network failure (status 0).
template <class Stream>
struct stream_open {
    std::shared_ptr<Stream> stream;
    http_result refusal;
};

/// A notification stream (`/ws/sync/{id}`): `read` the next text message;
/// `close` ends it, making a pending `read` complete. Both on the executor of
/// the coroutine that opened it.
template <class S>
concept notification_stream = requires(S& s) {
    { s.read() } -> std::same_as<boost::asio::awaitable<stream_read>>;
    { s.close() } noexcept;
};

/// A transport: GET requests, JSON POSTs (the register's analytics report) and
/// notification streams, all addressed by an origin-relative target
/// (`/api/v1/sync/products?since=...`). Operations run
/// on the executor of the awaiting coroutine; a transport is used from one
/// strand. Failures are results, never exceptions (except `bad_alloc`).
template <class T>
concept transport = notification_stream<typename T::stream_type>
    && requires(T& t, std::string target, const request_options& o) {
    { t.get(target, o) } -> std::same_as<boost::asio::awaitable<http_result>>;
    { t.post(target, std::string(), o) } -> std::same_as<boost::asio::awaitable<http_result>>;
    { t.open_stream(target, o) } -> std::same_as<boost::asio::awaitable<stream_open<typename T::stream_type>>>;
    /// Forget pooled connections (the network changed).
    { t.cancel_idle() } noexcept;
    /// Abort every exchange in flight too (the client stops).
    { t.cancel_all() } noexcept;
};

} // namespace incsync::client

#endif
