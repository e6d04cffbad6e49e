// The integration-test harness: a real server on 127.0.0.1 (port 0) and
// clients that speak to it over real sockets, every operation bounded by a
// deadline so that no test can hang.
//
// - server_fixture: an in-memory store, an image repository, the Beast server
//   on its own io_context thread(s); tokens "admin-token", "till-1" (store 1),
//   "till-2" (store 2).
// - http_client: Beast HTTP/1.1 over one keep-alive connection.
// - raw_client: arbitrary bytes in, bytes out (malformed requests).
// - ws_client: Beast's websocket::stream, an independent RFC 6455 client.
// - raw_ws_client: hand-made frames (protocol errors, clients that never
//   read or never answer pings).
// - sse_client: Server-Sent Events parsed from the raw byte stream.
//
// Client and server internals live in harness.cpp (compiled once); this
// header stays light so each test file compiles quickly.
#ifndef INCSYNC_TESTS_INTEGRATION_HARNESS_HPP
#define INCSYNC_TESTS_INTEGRATION_HARNESS_HPP

#include <incsync/beast/server_options.hpp>
#include <incsync/hub.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/server/images.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace it {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using duration = std::chrono::milliseconds;
using store_t = incsync::memory::server_store<incsync::pos::entities>;

inline constexpr std::string_view admin_token = "admin-token";
inline constexpr std::string_view till_1 = "till-1"; // register of store 1
inline constexpr std::string_view till_2 = "till-2"; // register of store 2

/// The longest any single client operation may take.
inline constexpr duration op_timeout = 5s;

/// Polls `pred` every 2 ms until it holds or `timeout` passes; returns its
/// last value. The only way tests wait: never a bare sleep.
template <class Pred>
bool wait_until(Pred&& pred, duration timeout = op_timeout)
{
    const auto deadline = steady::now() + timeout;
    while (!pred()) {
        if (steady::now() >= deadline) return pred();
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

// ---- the protocol's tables (PROTOCOL.md section 1), written out, not taken
// from the library: the tests check the contract, not the code's own view.

enum class wire_scope { global, store, mixed };

struct wire_type {
    std::string_view name; ///< entity_type
    std::string_view path; ///< path segment
    wire_scope scope;
    std::vector<std::string_view> fields; ///< "at least" these, besides id and updated_at
};

const std::vector<wire_type>& wire_types();
const wire_type& wire_type_named(std::string_view name);

// ---- JSON helpers -----------------------------------------------------------

std::set<std::string> keys(const json::object& o);
std::set<std::string> keys(const json::value& v); ///< empty unless an object
/// RFC 3339 UTC with microseconds, as the server writes: `2025-12-23T10:30:00.123456Z`.
bool is_wire_timestamp(const json::value& v);
/// Exactly `{"error":{"code":"<code>","message":"..."}}` (code unchecked when empty).
bool is_error_body(std::string_view body, std::string_view code = {});
/// `o[key]`, or null when `o` is empty or has no such member: safe on a
/// message that did not come.
json::value member(const std::optional<json::object>& o, std::string_view key);

// ---- HTTP -------------------------------------------------------------------

/// One HTTP answer; `status == 0` when none came (then `failure` says why).
struct http_reply {
    unsigned status = 0;
    std::string failure;
    http::response<http::string_body> message;
    mutable std::optional<json::value> parsed_;

    const std::string& body() const { return message.body(); }
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    /// The body as JSON (parsed once, owned by the reply); null when it does
    /// not parse.
    const json::value& json() const;
    /// `error.code` of an error body, or "" when the body is not one.
    std::string error_code() const;
    /// The JSON error shape with that code (any code when empty).
    bool is_error(std::string_view code = {}) const { return is_error_body(body(), code); }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A synchronous HTTP/1.1 client over one keep-alive connection, reconnecting
/// when the server closed it. Every operation has a deadline (`op_timeout`).
class http_client {
public:
    explicit http_client(std::uint16_t port);
    ~http_client();
    http_client(http_client&&) noexcept;
    http_client& operator=(http_client&&) noexcept;

    http_reply get(std::string target, std::string_view token = admin_token, header_list extra = {});
    /// `token` empty: no Authorization header.
    http_reply send(http::verb method, std::string target, std::string body = {},
                    std::string_view token = admin_token, header_list extra = {});
    http_reply request(http::request<http::string_body> req, duration timeout = op_timeout);

    bool connected() const;
    /// The local port of the current connection (0 when not connected).
    std::uint16_t local_port() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Raw bytes over TCP: writes anything, reads until close or a deadline.
class raw_client {
public:
    /// Connects; `receive_buffer` > 0 sets SO_RCVBUF before connecting.
    explicit raw_client(std::uint16_t port, int receive_buffer = 0);
    ~raw_client();
    raw_client(raw_client&&) noexcept;
    raw_client& operator=(raw_client&&) noexcept;

    bool connected() const;
    bool write(std::string_view bytes, duration timeout = op_timeout);
    enum class read_status { data, timeout, closed };
    /// Appends what arrives within `timeout` to `received()`.
    read_status read_some(duration timeout = op_timeout);
    /// Reads until `received()` contains `needle`; false at EOF or deadline.
    bool read_until(std::string_view needle, duration timeout = op_timeout);
    /// Reads until the peer closes; false when it is still open at the deadline.
    bool read_until_close(duration timeout = op_timeout);
    bool peer_closed() const;
    std::string& received();
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Every complete HTTP response in `bytes` (a close-delimited body ends at
/// the end of `bytes`).
std::vector<http::response<http::string_body>> parse_responses(std::string_view bytes);

/// Any request bytes on a fresh raw connection: the first final response,
/// complete by its framing or ended by the server's close.
http_reply raw_exchange(std::uint16_t port, std::string_view request_bytes, duration timeout = op_timeout);

// ---- WebSocket ----------------------------------------------------------------

/// A WebSocket client on Beast's websocket::stream, reading on its own thread
/// (so it answers pings as a real client does) into a queue.
class ws_client {
public:
    /// Connects and upgrades `target` (e.g. `/ws/sync/7?store_id=1&token=till-1`).
    /// `offer_deflate`: Beast's own permessage-deflate, offered in the upgrade.
    explicit ws_client(std::uint16_t port, std::string target, header_list extra = {}, bool offer_deflate = false);
    ~ws_client();

    bool is_open() const;
    /// 101 after an upgrade, the refusal's status otherwise (0: no HTTP answer).
    unsigned status() const;
    /// The refusal's body (JSON error).
    const std::string& refusal_body() const;

    /// The next message, or nullopt when none comes within `timeout`.
    std::optional<std::string> next(duration timeout = op_timeout);
    /// The next message as a JSON object; nullopt on timeout (or when not an object).
    std::optional<json::object> next_json(duration timeout = op_timeout);
    /// True when no message arrives within `timeout` (proves a negative only
    /// together with a later positive; see the tests).
    bool quiet_for(duration timeout);
    /// Waits until `n` messages arrived in total (consumed or not).
    bool wait_received(std::size_t n, duration timeout = op_timeout);
    std::size_t received() const;
    /// Every message received so far, consumed or not.
    std::vector<std::string> history() const;

    bool send(std::string text, duration timeout = op_timeout);
    /// A normal close handshake from our side.
    bool close(duration timeout = op_timeout);
    /// The close code the server sent, once the connection ended: nullopt when
    /// still open at the deadline, 0 when it ended without a close frame.
    std::optional<int> wait_closed(duration timeout = op_timeout);
    int pings() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

struct ws_frame {
    bool fin = true;
    bool rsv1 = false;   ///< a permessage-deflate (compressed) message
    unsigned opcode = 0;
    bool masked = false; ///< servers must not mask
    std::string payload;
    int close_code() const; ///< for a close frame: its code, 1005 when empty
};

/// A WebSocket client made of hand-built frames: for what no polite client
/// does (unmasked frames, never reading, never answering pings).
class raw_ws_client {
public:
    /// Connects and sends an upgrade for `target`, offering `extensions` in
    /// Sec-WebSocket-Extensions when not empty; `status()` says how it went.
    explicit raw_ws_client(std::uint16_t port, std::string target, int receive_buffer = 0,
                           std::string_view extensions = {});
    unsigned status() const { return status_; }
    bool upgraded() const { return status_ == 101; }
    /// The upgrade response's head (status line and headers).
    const std::string& head() const { return head_; }

    bool send_frame(unsigned opcode, std::string_view payload, bool fin = true, bool masked = true, bool rsv1 = false);
    bool send_text(std::string_view payload) { return send_frame(1, payload); }
    /// The next frame; nullopt on timeout or EOF.
    std::optional<ws_frame> read_frame(duration timeout = op_timeout);
    /// Reads frames (skipping pings and messages) until a close frame: its code;
    /// nullopt on timeout or EOF before one.
    std::optional<int> read_close_code(duration timeout = op_timeout);
    raw_client& raw() { return raw_; }

    static constexpr unsigned op_continuation = 0, op_text = 1, op_binary = 2, op_close = 8, op_ping = 9,
                              op_pong = 10;

private:
    raw_client raw_;
    unsigned status_ = 0;
    std::string head_;
};

// ---- Server-Sent Events -------------------------------------------------------

struct sse_event {
    std::string event;
    std::string data;
};

/// An SSE client on a raw socket.
class sse_client {
public:
    /// Sends `GET target`, with `Authorization: Bearer <token>` when `token` is
    /// not empty, and reads the response head.
    sse_client(std::uint16_t port, std::string target, std::string_view token = {});
    unsigned status() const { return status_; }
    std::string content_type() const { return content_type_; }
    /// The body of a refusal (the connection is read to its end).
    const std::string& refusal_body() const { return refusal_body_; }
    /// The next event (comments and `retry:` skipped); nullopt on timeout or EOF.
    std::optional<sse_event> next(duration timeout = op_timeout);
    int comments() const { return comments_; }
    raw_client& raw() { return raw_; }

private:
    raw_client raw_;
    unsigned status_ = 0;
    std::string content_type_;
    std::string refusal_body_;
    std::string pending_; // body bytes not yet parsed
    int comments_ = 0;
};

// ---- the server -----------------------------------------------------------------

/// A server on 127.0.0.1, port 0, over a fresh in-memory store.
class server_fixture {
public:
    using tweak = std::function<void(incsync::beast::server_options&)>;

    /// `t` adjusts the options after the defaults (tokens, images) are set.
    explicit server_fixture(const tweak& t = {}, unsigned threads = 1);
    ~server_fixture();
    server_fixture(const server_fixture&) = delete;
    server_fixture& operator=(const server_fixture&) = delete;

    store_t store;
    std::shared_ptr<incsync::server::memory_image_repository> images =
        std::make_shared<incsync::server::memory_image_repository>();

    std::uint16_t port() const;
    incsync::beast::server_stats stats() const;
    incsync::notification_hub& hub();
    const incsync::beast::server_options& options() const;

    /// Stops the server (idempotent).
    void stop();
    /// Refuses `token` from now on.
    bool revoke_token(std::string_view token);
    /// True once every io_context thread has returned.
    bool wait_stopped(duration timeout);

    template <class Pred>
    bool wait_for_stats(Pred&& pred, duration timeout = op_timeout)
    {
        return wait_until([&] { return pred(stats()); }, timeout);
    }

    /// Every record of every type as JSON, and the store's high water: equal
    /// snapshots, unchanged data.
    std::string snapshot() const;
    /// The demo catalog (all twelve types, stores 1 and 2), without images.
    void seed(std::size_t products = 24);
    std::vector<std::string> log() const;

    http_client http() const { return http_client(port()); }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// ---- small conveniences ---------------------------------------------------------

/// POSTs `body` to `/api/v1/{path}` as admin; the new id, or 0 (and a failed check).
std::int64_t create(http_client& c, std::string_view path, std::string body);

/// `{"seq":..,"type":"entity_updated",...}` members as PROTOCOL.md section 3 lists them.
const std::set<std::string>& notification_members();

/// A made-up change for publishing straight into the hub.
incsync::change made_up_change(incsync::version_t version, std::optional<std::int64_t> store = std::nullopt,
                               std::string_view entity_type = "product", std::int64_t id = 1);

/// A small PNG-shaped upload: the signature (all the server checks), chunk
/// bytes, and `salt` at the end so that different salts are different images.
std::string tiny_png(unsigned char salt = 0);

} // namespace it

#endif
