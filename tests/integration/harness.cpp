// The harness's clients and server fixture (see harness.hpp).
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <incsync/beast/server.hpp>
#include <incsync/pos/demo_data.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <regex>

namespace it {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using server_t = incsync::beast::server<store_t>;

namespace {

tcp::endpoint loopback(std::uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

// ---- running one asynchronous operation with a deadline ------------------------

struct completion {
    std::optional<error_code> ec;
    std::size_t bytes = 0;
};

inline void take_bytes(completion& c, std::size_t n) { c.bytes = n; }
template <class T>
void take_bytes(completion&, const T&)
{
}

// Starts an operation on `ioc`, runs `ioc` until it completes or `timeout`
// passes; then `cancel()`s it and lets the cancellation complete. The handler
// owns its state, so a late completion touches nothing of the caller's.
template <class Start, class Cancel>
completion run_op(asio::io_context& ioc, Start&& start, Cancel&& cancel, duration timeout)
{
    auto state = std::make_shared<completion>();
    // Stops `ioc` on completion: run_for() alone would also wait out any timer
    // the operation leaves behind (a refused WebSocket handshake does).
    start([state, &ioc](error_code ec, auto&&... rest) {
        state->ec = ec;
        (take_bytes(*state, rest), ...);
        ioc.stop();
    });
    ioc.restart();
    ioc.run_for(timeout);
    if (!state->ec) {
        cancel();
        ioc.restart();
        ioc.run_for(2s);
        if (!state->ec || *state->ec == asio::error::operation_aborted) state->ec = asio::error::timed_out;
    }
    return *state;
}

} // namespace

// ---- the protocol's tables --------------------------------------------------------

const std::vector<wire_type>& wire_types()
{
    static const std::vector<wire_type> types{
        {"product", "products", wire_scope::global,
         {"name", "sku", "price_cents", "category_id", "image_url", "image_version", "is_active"}},
        {"category", "categories", wire_scope::global, {"name", "description"}},
        {"material", "materials", wire_scope::global, {"name", "unit_cost_cents"}},
        {"unit_of_measure", "unit-of-measures", wire_scope::global, {"name", "abbreviation"}},
        {"product_unit_of_measure", "product-unit-of-measures", wire_scope::global,
         {"product_id", "unit_of_measure_id", "factor"}},
        {"material_unit_of_measure", "material-unit-of-measures", wire_scope::global,
         {"material_id", "unit_of_measure_id", "factor"}},
        {"recipe", "recipes", wire_scope::global, {"product_id", "name"}},
        {"recipe_material", "recipe-materials", wire_scope::global, {"recipe_id", "material_id", "quantity"}},
        {"setting", "settings", wire_scope::mixed, {"key", "value", "store_id"}},
        {"table", "tables", wire_scope::store, {"store_id", "name", "seats", "status"}},
        {"inventory_config", "inventory-config", wire_scope::store,
         {"store_id", "track_stock", "allow_negative_stock", "low_stock_threshold"}},
        {"document_prefix", "document-prefixes", wire_scope::store,
         {"store_id", "document_type", "prefix", "next_number"}},
    };
    return types;
}

const wire_type& wire_type_named(std::string_view name)
{
    for (const auto& t : wire_types())
        if (t.name == name) return t;
    throw std::invalid_argument("no wire type " + std::string(name));
}

// ---- JSON helpers --------------------------------------------------------------------

std::set<std::string> keys(const json::object& o)
{
    std::set<std::string> out;
    for (const auto& kv : o) out.emplace(kv.key());
    return out;
}

std::set<std::string> keys(const json::value& v)
{
    if (const auto* o = v.if_object()) return keys(*o);
    return {};
}

bool is_wire_timestamp(const json::value& v)
{
    static const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)");
    const auto* s = v.if_string();
    return s && std::regex_match(s->begin(), s->end(), shape);
}

bool is_error_body(std::string_view body, std::string_view code)
{
    error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || keys(v) != std::set<std::string>{"error"}) return false;
    const auto& e = v.at("error");
    if (keys(e) != std::set<std::string>{"code", "message"}) return false;
    if (!e.at("code").is_string() || !e.at("message").is_string()) return false;
    return code.empty() || e.at("code").get_string() == code;
}

json::value member(const std::optional<json::object>& o, std::string_view key)
{
    if (!o) return nullptr;
    const auto* v = o->if_contains(key);
    return v ? *v : json::value();
}

// ---- http_reply ---------------------------------------------------------------------------

std::string http_reply::header(std::string_view name) const
{
    auto it = message.find(beast::string_view(name.data(), name.size()));
    return it == message.end() ? std::string() : std::string(it->value());
}

bool http_reply::has_header(std::string_view name) const
{
    return message.find(beast::string_view(name.data(), name.size())) != message.end();
}

const json::value& http_reply::json() const
{
    if (!parsed_) {
        boost::system::error_code ec;
        auto v = json::parse(body(), ec);
        parsed_ = ec ? json::value() : std::move(v);
    }
    return *parsed_;
}

std::string http_reply::error_code() const
{
    if (!is_error_body(body())) return {};
    return std::string(json::parse(body()).at("error").at("code").as_string());
}

// ---- http_client ------------------------------------------------------------------------------

struct http_client::impl {
    explicit impl(std::uint16_t p) : port(p) {}
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
    std::uint16_t port;
    bool connected = false;

    void disconnect()
    {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        buffer.clear();
        connected = false;
    }

    error_code connect()
    {
        buffer.clear();
        stream.expires_after(op_timeout);
        auto r = run_op(
            ioc, [&](auto h) { stream.async_connect(loopback(port), std::move(h)); }, [&] { stream.cancel(); },
            op_timeout + 1s);
        connected = !*r.ec;
        return *r.ec;
    }
};

http_client::http_client(std::uint16_t port) : impl_(std::make_unique<impl>(port)) {}
http_client::~http_client()
{
    if (impl_ && impl_->connected) impl_->disconnect();
}
http_client::http_client(http_client&&) noexcept = default;
http_client& http_client::operator=(http_client&&) noexcept = default;

bool http_client::connected() const { return impl_->connected; }

std::uint16_t http_client::local_port() const
{
    error_code ec;
    auto ep = impl_->stream.socket().local_endpoint(ec);
    return ec ? 0 : ep.port();
}

http_reply http_client::get(std::string target, std::string_view token, header_list extra)
{
    return send(http::verb::get, std::move(target), {}, token, std::move(extra));
}

http_reply http_client::send(http::verb method, std::string target, std::string body, std::string_view token,
                             header_list extra)
{
    http::request<http::string_body> req{method, target, 11};
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + std::string(token));
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (auto& [k, v] : extra) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    return request(std::move(req));
}

http_reply http_client::request(http::request<http::string_body> req, duration timeout)
{
    auto& d = *impl_;
    http_reply reply;
    if (!d.connected) {
        if (auto ec = d.connect()) {
            reply.failure = "connect: " + ec.message();
            return reply;
        }
    }
    req.set(http::field::host, "127.0.0.1");
    d.stream.expires_after(timeout);
    auto w = run_op(
        d.ioc, [&](auto h) { http::async_write(d.stream, req, std::move(h)); }, [&] { d.stream.cancel(); },
        timeout + 1s);
    // A server may answer before it has read the whole request (413 on the
    // header): after a failed write, read what it said anyway, briefly.
    const auto read_timeout = *w.ec ? std::min<duration>(timeout, 1s) : timeout;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    d.stream.expires_after(read_timeout);
    auto r = run_op(
        d.ioc, [&](auto h) { http::async_read(d.stream, d.buffer, parser, std::move(h)); },
        [&] { d.stream.cancel(); }, read_timeout + 1s);
    if (*r.ec) {
        d.disconnect();
        reply.failure = (*w.ec ? "write: " + w.ec->message() + ", then " : std::string()) + "read: " + r.ec->message();
        return reply;
    }
    reply.message = parser.release();
    reply.status = reply.message.result_int();
    if (!reply.message.keep_alive()) d.disconnect();
    return reply;
}

// ---- raw_client ------------------------------------------------------------------------------

struct raw_client::impl {
    asio::io_context ioc;
    tcp::socket socket{ioc};
    std::string received;
    std::array<char, 16384> chunk{};
    bool connected = false;
    bool peer_closed = false;
};

raw_client::raw_client(std::uint16_t port, int receive_buffer) : impl_(std::make_unique<impl>())
{
    auto& d = *impl_;
    error_code ec;
    d.socket.open(tcp::v4(), ec);
    if (!ec && receive_buffer > 0) d.socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
    if (ec) return;
    auto r = run_op(
        d.ioc, [&](auto h) { d.socket.async_connect(loopback(port), std::move(h)); },
        [&] {
            error_code ignored;
            d.socket.cancel(ignored);
        },
        op_timeout);
    d.connected = !*r.ec;
}

raw_client::~raw_client() = default;
raw_client::raw_client(raw_client&&) noexcept = default;
raw_client& raw_client::operator=(raw_client&&) noexcept = default;

bool raw_client::connected() const { return impl_->connected; }
bool raw_client::peer_closed() const { return impl_->peer_closed; }
std::string& raw_client::received() { return impl_->received; }

void raw_client::close()
{
    error_code ignored;
    impl_->socket.close(ignored);
    impl_->connected = false;
}

bool raw_client::write(std::string_view bytes, duration timeout)
{
    auto& d = *impl_;
    if (!d.connected) return false;
    auto r = run_op(
        d.ioc, [&](auto h) { asio::async_write(d.socket, asio::buffer(bytes.data(), bytes.size()), std::move(h)); },
        [&] {
            error_code ignored;
            d.socket.cancel(ignored);
        },
        timeout);
    return !*r.ec;
}

raw_client::read_status raw_client::read_some(duration timeout)
{
    auto& d = *impl_;
    if (!d.connected || d.peer_closed) return read_status::closed;
    auto r = run_op(
        d.ioc, [&](auto h) { d.socket.async_read_some(asio::buffer(d.chunk), std::move(h)); },
        [&] {
            error_code ignored;
            d.socket.cancel(ignored);
        },
        timeout);
    if (!*r.ec) {
        d.received.append(d.chunk.data(), r.bytes);
        return read_status::data;
    }
    if (*r.ec == asio::error::timed_out) return read_status::timeout;
    d.peer_closed = true; // EOF, reset: the peer is gone
    return read_status::closed;
}

bool raw_client::read_until(std::string_view needle, duration timeout)
{
    const auto deadline = steady::now() + timeout;
    while (impl_->received.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
        if (left <= 0ms) return false;
        if (read_some(left) == read_status::closed) return impl_->received.find(needle) != std::string::npos;
    }
    return true;
}

bool raw_client::read_until_close(duration timeout)
{
    const auto deadline = steady::now() + timeout;
    while (!impl_->peer_closed) {
        const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
        if (left <= 0ms) return false;
        (void)read_some(left);
    }
    return true;
}

std::vector<http::response<http::string_body>> parse_responses(std::string_view bytes)
{
    std::vector<http::response<http::string_body>> out;
    while (!bytes.empty()) {
        http::response_parser<http::string_body> p;
        p.eager(true);
        p.body_limit(boost::none);
        error_code ec;
        std::size_t used = 0;
        while (!p.is_done() && used < bytes.size()) {
            const auto n = p.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
            used += n;
            if (ec == http::error::need_more) {
                ec = {};
                if (n == 0) break;
                continue;
            }
            if (ec || n == 0) break;
        }
        if (ec || !p.is_header_done()) break;
        if (!p.is_done()) {
            p.put_eof(ec); // a close-delimited body, or a truncated one
            if (ec) break;
        }
        out.push_back(p.release());
        bytes.remove_prefix(used);
    }
    return out;
}

namespace {

// The first final (non-1xx) response in `bytes` when it is complete by its
// own framing (Content-Length or chunks), without waiting for a close.
std::optional<http::response<http::string_body>> complete_final_response(std::string_view bytes)
{
    while (!bytes.empty()) {
        http::response_parser<http::string_body> p;
        p.eager(true);
        p.body_limit(boost::none);
        error_code ec;
        const auto used = p.put(asio::buffer(bytes.data(), bytes.size()), ec);
        if (ec || !p.is_done()) return std::nullopt;
        if (p.get().result_int() >= 200) return p.release();
        bytes.remove_prefix(used);
    }
    return std::nullopt;
}

} // namespace

http_reply raw_exchange(std::uint16_t port, std::string_view request_bytes, duration timeout)
{
    http_reply reply;
    raw_client c(port);
    if (!c.connected()) {
        reply.failure = "connect failed";
        return reply;
    }
    (void)c.write(request_bytes, timeout); // the server may answer and close before reading all
    // Done at the first complete answer, or when the server closes (which
    // ends a close-delimited body).
    const auto deadline = steady::now() + timeout;
    std::optional<http::response<http::string_body>> answer;
    while (!(answer = complete_final_response(c.received()))) {
        const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
        if (left <= duration::zero() || c.read_some(left) != raw_client::read_status::data) break;
    }
    if (!answer) {
        for (auto& m : parse_responses(c.received()))
            if (m.result_int() >= 200) { // not 100 Continue
                answer = std::move(m);
                break;
            }
    }
    if (!answer) {
        reply.failure = "no HTTP response in: " + c.received().substr(0, 200);
        return reply;
    }
    reply.message = std::move(*answer);
    reply.status = reply.message.result_int();
    return reply;
}

// ---- ws_client -------------------------------------------------------------------------------------

struct ws_client::impl {
    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buffer;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    std::future<void> runner;
    unsigned status = 0;
    std::string refusal;

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::string> queue;
    std::vector<std::string> history;
    bool open = false;
    bool ended = false;
    int close_code = 0;
    std::atomic<int> pings{0};

    void read_loop()
    {
        ws.async_read(buffer, [this](error_code ec, std::size_t) {
            if (ec) {
                const int code = ec == websocket::error::closed ? static_cast<int>(ws.reason().code) : 0;
                std::lock_guard lock(mutex);
                if (ended) return; // our own close() finished first and recorded the code
                ended = true;
                close_code = code;
                cv.notify_all();
                return;
            }
            auto text = beast::buffers_to_string(buffer.data());
            buffer.consume(buffer.size());
            {
                std::lock_guard lock(mutex);
                queue.push_back(text);
                history.push_back(std::move(text));
            }
            cv.notify_all();
            read_loop();
        });
    }

    template <class Op>
    bool on_thread(Op op, duration timeout)
    {
        if (!runner.valid()) return false;
        auto done = std::make_shared<std::promise<error_code>>();
        auto result = done->get_future();
        asio::post(ioc, [op = std::move(op), done]() mutable { op(done); });
        return result.wait_for(timeout) == std::future_status::ready && !result.get();
    }
};

ws_client::ws_client(std::uint16_t port, std::string target, header_list extra, bool offer_deflate)
    : impl_(std::make_shared<impl>())
{
    auto& d = *impl_;
    if (offer_deflate) {
        websocket::permessage_deflate pmd;
        pmd.client_enable = true;
        pmd.msg_size_threshold = 0; // compress even a ping, to exercise the server's inflate
        d.ws.set_option(pmd);
    }
    d.ws.control_callback([&d](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping) ++d.pings;
    });
    d.ws.set_option(websocket::stream_base::timeout{op_timeout, websocket::stream_base::none(), false});
    d.ws.set_option(websocket::stream_base::decorator([extra = std::move(extra)](websocket::request_type& req) {
        for (auto& [k, v] : extra) req.set(k, v);
    }));
    auto& tcp_layer = beast::get_lowest_layer(d.ws);
    tcp_layer.expires_after(op_timeout);
    auto c = run_op(
        d.ioc, [&](auto h) { tcp_layer.async_connect(loopback(port), std::move(h)); }, [&] { tcp_layer.cancel(); },
        op_timeout + 1s);
    if (*c.ec) return;
    tcp_layer.expires_never(); // the websocket stream has its own timeouts
    websocket::response_type res;
    auto h = run_op(
        d.ioc, [&](auto h) { d.ws.async_handshake(res, "127.0.0.1", target, std::move(h)); },
        [&] { tcp_layer.close(); }, op_timeout + 1s);
    d.status = res.result_int();
    if (*h.ec) {
        d.refusal = res.body();
        tcp_layer.close();
        return;
    }
    d.open = true;
    d.read_loop();
    d.guard.emplace(d.ioc.get_executor());
    d.ioc.restart();
    d.runner = std::async(std::launch::async, [&d] { d.ioc.run(); });
}

ws_client::~ws_client()
{
    auto& d = *impl_;
    if (!d.runner.valid()) return;
    asio::post(d.ioc, [&d] { beast::get_lowest_layer(d.ws).close(); });
    d.guard.reset();
    if (d.runner.wait_for(op_timeout) != std::future_status::ready) d.ioc.stop();
    d.runner.wait();
}

bool ws_client::is_open() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->open && !impl_->ended;
}

unsigned ws_client::status() const { return impl_->status; }
const std::string& ws_client::refusal_body() const { return impl_->refusal; }

std::optional<std::string> ws_client::next(duration timeout)
{
    auto& d = *impl_;
    std::unique_lock lock(d.mutex);
    d.cv.wait_for(lock, timeout, [&] { return !d.queue.empty() || d.ended || !d.open; });
    if (d.queue.empty()) return std::nullopt;
    auto m = std::move(d.queue.front());
    d.queue.pop_front();
    return m;
}

std::optional<json::object> ws_client::next_json(duration timeout)
{
    auto m = next(timeout);
    if (!m) return std::nullopt;
    error_code ec;
    auto v = json::parse(*m, ec);
    if (ec || !v.is_object()) {
        BOOST_TEST_MESSAGE("not a JSON object: " << *m);
        return std::nullopt;
    }
    return std::move(v.as_object());
}

bool ws_client::quiet_for(duration timeout)
{
    auto& d = *impl_;
    std::unique_lock lock(d.mutex);
    return !d.cv.wait_for(lock, timeout, [&] { return !d.queue.empty(); });
}

bool ws_client::wait_received(std::size_t n, duration timeout)
{
    auto& d = *impl_;
    std::unique_lock lock(d.mutex);
    return d.cv.wait_for(lock, timeout, [&] { return d.history.size() >= n || d.ended; }) && d.history.size() >= n;
}

std::size_t ws_client::received() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->history.size();
}

std::vector<std::string> ws_client::history() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->history;
}

bool ws_client::send(std::string text, duration timeout)
{
    auto& d = *impl_;
    return d.on_thread(
        [&d, text = std::make_shared<std::string>(std::move(text))](auto done) {
            d.ws.text(true);
            d.ws.async_write(asio::buffer(*text),
                             [text, done](error_code ec, std::size_t) { done->set_value(ec); });
        },
        timeout);
}

bool ws_client::close(duration timeout)
{
    auto& d = *impl_;
    return d.on_thread(
        [&d](auto done) {
            d.ws.async_close(websocket::close_code::normal, [&d, done](error_code ec) {
                // The pending read ends with operation_aborted, not `closed`:
                // the server's close frame was read by this operation.
                {
                    std::lock_guard lock(d.mutex);
                    if (!d.ended) {
                        d.ended = true;
                        d.close_code = ec ? 0 : static_cast<int>(d.ws.reason().code);
                    }
                }
                d.cv.notify_all();
                done->set_value(ec);
            });
        },
        timeout);
}

std::optional<int> ws_client::wait_closed(duration timeout)
{
    auto& d = *impl_;
    std::unique_lock lock(d.mutex);
    if (!d.cv.wait_for(lock, timeout, [&] { return d.ended || !d.open; })) return std::nullopt;
    return d.close_code;
}

int ws_client::pings() const { return impl_->pings.load(); }

// ---- raw_ws_client --------------------------------------------------------------------------------

int ws_frame::close_code() const
{
    if (payload.size() < 2) return 1005;
    return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

namespace {
// RFC 6455 section 1.3's own example: this key must be answered with this accept.
constexpr std::string_view sample_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view sample_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The value of header `name` in a response head, case-insensitively; "" when absent.
std::string head_field(std::string_view head, std::string_view name)
{
    const auto l = lower(head);
    const auto key = "\r\n" + lower(name) + ":";
    const auto at = l.find(key);
    if (at == std::string::npos) return {};
    auto begin = at + key.size();
    const auto end = head.find("\r\n", begin);
    while (begin < end && head[begin] == ' ') ++begin;
    return std::string(head.substr(begin, end - begin));
}

unsigned head_status(std::string_view head)
{
    // "HTTP/1.1 101 Switching Protocols"
    if (head.size() < 12 || !head.starts_with("HTTP/1.")) return 0;
    return static_cast<unsigned>(std::atoi(std::string(head.substr(9, 3)).c_str()));
}
} // namespace

raw_ws_client::raw_ws_client(std::uint16_t port, std::string target, int receive_buffer, std::string_view extensions)
    : raw_(port, receive_buffer)
{
    if (!raw_.connected()) return;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: " + std::string(sample_key)
                    + "\r\nSec-WebSocket-Version: 13\r\n";
    if (!extensions.empty()) req += "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
    req += "\r\n";
    if (!raw_.write(req) || !raw_.read_until("\r\n\r\n")) return;
    auto& in = raw_.received();
    const auto end = in.find("\r\n\r\n") + 4;
    const std::string head = in.substr(0, end);
    head_ = head;
    status_ = head_status(head);
    if (status_ == 101 && head_field(head, "Sec-WebSocket-Accept") != sample_accept) {
        BOOST_ERROR("wrong Sec-WebSocket-Accept in: " << head);
        status_ = 0;
    }
    in.erase(0, end);
}

bool raw_ws_client::send_frame(unsigned opcode, std::string_view payload, bool fin, bool masked, bool rsv1)
{
    std::string f;
    f.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0F)));
    const unsigned char mask_bit = masked ? 0x80 : 0;
    const auto n = payload.size();
    if (n < 126) {
        f.push_back(static_cast<char>(mask_bit | n));
    } else if (n <= 0xFFFF) {
        f.push_back(static_cast<char>(mask_bit | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n));
    } else {
        f.push_back(static_cast<char>(mask_bit | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(static_cast<std::uint64_t>(n) >> (8 * i)));
    }
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (masked) f.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < n; ++i)
        f.push_back(masked ? static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i & 3]) : payload[i]);
    return raw_.write(f);
}

std::optional<ws_frame> raw_ws_client::read_frame(duration timeout)
{
    const auto deadline = steady::now() + timeout;
    auto& in = raw_.received();
    for (;;) {
        const auto* u = reinterpret_cast<const unsigned char*>(in.data());
        if (in.size() >= 2) {
            std::size_t header = 2;
            std::uint64_t length = u[1] & 0x7F;
            const bool masked = (u[1] & 0x80) != 0;
            bool complete = true;
            if (length == 126) {
                header = 4;
                complete = in.size() >= header;
                if (complete) length = (std::uint64_t{u[2]} << 8) | u[3];
            } else if (length == 127) {
                header = 10;
                complete = in.size() >= header;
                if (complete) {
                    length = 0;
                    for (int i = 0; i < 8; ++i) length = (length << 8) | u[2 + i];
                }
            }
            if (masked) header += 4;
            if (complete && in.size() >= header && in.size() - header >= length) {
                ws_frame f;
                f.fin = (u[0] & 0x80) != 0;
                f.rsv1 = (u[0] & 0x40) != 0;
                f.opcode = u[0] & 0x0F;
                f.masked = masked;
                f.payload = in.substr(header, static_cast<std::size_t>(length));
                if (masked)
                    for (std::size_t i = 0; i < f.payload.size(); ++i)
                        f.payload[i] = static_cast<char>(f.payload[i] ^ in[header - 4 + (i & 3)]);
                in.erase(0, header + static_cast<std::size_t>(length));
                return f;
            }
        }
        const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
        if (left <= 0ms) return std::nullopt;
        if (raw_.read_some(left) == raw_client::read_status::closed) return std::nullopt;
    }
}

std::optional<int> raw_ws_client::read_close_code(duration timeout)
{
    const auto deadline = steady::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
        auto f = read_frame(std::max(left, duration(1)));
        if (!f) return std::nullopt;
        if (f->opcode == op_close) return f->close_code();
    }
}

// ---- sse_client ------------------------------------------------------------------------------------

sse_client::sse_client(std::uint16_t port, std::string target, std::string_view token) : raw_(port)
{
    if (!raw_.connected()) return;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + std::string(token) + "\r\n";
    req += "\r\n";
    if (!raw_.write(req) || !raw_.read_until("\r\n\r\n")) return;
    auto& in = raw_.received();
    const auto end = in.find("\r\n\r\n") + 4;
    const std::string head = in.substr(0, end);
    status_ = head_status(head);
    content_type_ = head_field(head, "Content-Type");
    if (status_ != 200) {
        (void)raw_.read_until_close();
        auto responses = parse_responses(in);
        if (!responses.empty()) refusal_body_ = responses.front().body();
        return;
    }
    in.erase(0, end);
}

std::optional<sse_event> sse_client::next(duration timeout)
{
    const auto deadline = steady::now() + timeout;
    auto& in = raw_.received();
    for (;;) {
        for (auto blank = in.find("\n\n"); blank != std::string::npos; blank = in.find("\n\n")) {
            const std::string block = in.substr(0, blank + 1);
            in.erase(0, blank + 2);
            sse_event e;
            bool has_data = false;
            std::size_t pos = 0;
            while (pos < block.size()) {
                const auto nl = block.find('\n', pos);
                const std::string_view line(block.data() + pos, nl - pos);
                pos = nl + 1;
                if (line.starts_with(":")) ++comments_;
                else if (line.starts_with("event:")) e.event = std::string(line.substr(line.starts_with("event: ") ? 7 : 6));
                else if (line.starts_with("data:")) {
                    if (has_data) e.data.push_back('\n');
                    e.data += line.substr(line.starts_with("data: ") ? 6 : 5);
                    has_data = true;
                }
            }
            if (has_data) {
                if (e.event.empty()) e.event = "message";
                return e;
            }
        }
        const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
        if (left <= 0ms) return std::nullopt;
        if (raw_.read_some(left) == raw_client::read_status::closed && in.find("\n\n") == std::string::npos)
            return std::nullopt;
    }
}

// ---- server_fixture -------------------------------------------------------------------------------

struct server_fixture::impl {
    explicit impl(unsigned threads) : ioc(static_cast<int>(threads)) {}

    mutable std::mutex log_mutex;
    std::vector<std::string> log_lines;
    std::string crash; // an exception that escaped io_context::run
    const bool echo = std::getenv("INCSYNC_IT_LOG") != nullptr;

    asio::io_context ioc;
    incsync::beast::server_options options;
    std::unique_ptr<server_t> server;
    std::vector<std::future<void>> runners;
    std::uint16_t port = 0;
};

server_fixture::server_fixture(const tweak& t, unsigned threads) : impl_(std::make_unique<impl>(threads))
{
    auto& d = *impl_;
    incsync::beast::server_options o;
    o.api.tokens.add_admin(std::string(admin_token));
    o.api.tokens.add_register(std::string(till_1), 1);
    o.api.tokens.add_register(std::string(till_2), 2);
    o.api.images = images;
    o.threads = std::max(threads, 1u); // more than one: strands per connection
    o.log = [&d](std::string_view line) {
        std::lock_guard lock(d.log_mutex);
        d.log_lines.emplace_back(line);
        if (d.echo) std::clog << "[server] " << line << '\n';
    };
    if (t) t(o);
    d.options = o;
    d.server = std::make_unique<server_t>(d.ioc.get_executor(), store, std::move(o));
    d.server->listen({asio::ip::make_address("127.0.0.1"), 0});
    d.port = d.server->local_endpoint().port();
    for (unsigned i = 0; i < std::max(threads, 1u); ++i)
        d.runners.push_back(std::async(std::launch::async, [&d] {
            try {
                d.ioc.run();
            } catch (const std::exception& e) {
                std::lock_guard lock(d.log_mutex);
                d.crash += std::string(e.what()) + "; ";
            }
        }));
}

bool server_fixture::revoke_token(std::string_view token) { return impl_->server->api().tokens().revoke(token); }

server_fixture::~server_fixture()
{
    auto& d = *impl_;
    stop();
    if (!wait_stopped(10s)) {
        BOOST_ERROR("the server's io_context still had work 10 s after stop()");
        d.ioc.stop();
        for (auto& r : d.runners) r.wait();
    }
    std::lock_guard lock(d.log_mutex);
    BOOST_TEST(d.crash.empty(), "an exception escaped the server's io_context: " << d.crash);
}

std::uint16_t server_fixture::port() const { return impl_->port; }
incsync::beast::server_stats server_fixture::stats() const { return impl_->server->stats(); }
incsync::notification_hub& server_fixture::hub() { return impl_->server->hub(); }
const incsync::beast::server_options& server_fixture::options() const { return impl_->options; }

void server_fixture::stop() { impl_->server->stop(); }

bool server_fixture::wait_stopped(duration timeout)
{
    const auto deadline = steady::now() + timeout;
    for (auto& r : impl_->runners)
        if (r.wait_until(deadline) != std::future_status::ready) return false;
    return true;
}

std::string server_fixture::snapshot() const
{
    std::string out;
    incsync::for_each_entity<incsync::pos::entities>([&]<class E>(std::type_identity<E>) {
        out.append(incsync::entity_type_name<E>);
        out.append(":\n");
        auto rows = store.template list<E>(std::nullopt);
        if (rows)
            for (const auto& r : *rows) out.append(r->json).push_back('\n');
    });
    const auto high = store.high_water();
    out += "high_water=" + std::to_string(high ? *high : 0);
    out += " images=" + std::to_string(images->size());
    return out;
}

void server_fixture::seed(std::size_t products)
{
    incsync::pos::demo_options o;
    o.products = products;
    o.images = false;
    auto r = incsync::pos::seed_demo_data(store, nullptr, o);
    BOOST_TEST_REQUIRE(static_cast<bool>(r), "seeding failed");
}

std::vector<std::string> server_fixture::log() const
{
    std::lock_guard lock(impl_->log_mutex);
    return impl_->log_lines;
}

// ---- conveniences -----------------------------------------------------------------------------------

std::int64_t create(http_client& c, std::string_view path, std::string body)
{
    auto r = c.send(http::verb::post, "/api/v1/" + std::string(path), std::move(body));
    BOOST_TEST(r.status == 201u, "POST /api/v1/" << path << ": " << r.status << ' ' << r.failure << r.body());
    if (r.status != 201) return 0;
    const auto v = r.json();
    const auto* id = v.is_object() ? v.as_object().if_contains("id") : nullptr;
    return id && id->is_int64() ? id->as_int64() : 0;
}

const std::set<std::string>& notification_members()
{
    static const std::set<std::string> m{"type",      "entity_type", "entity_id", "change_type",
                                         "timestamp", "version",     "seq"};
    return m;
}

incsync::change made_up_change(incsync::version_t version, std::optional<std::int64_t> store,
                               std::string_view entity_type, std::int64_t id)
{
    return incsync::change{version, entity_type, id, store, incsync::change_type::update, {}, incsync::timestamp::now()};
}

std::string tiny_png(unsigned char salt)
{
    using namespace std::string_literals;
    std::string png = "\x89PNG\r\n\x1a\n"s;
    png += "\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"s;
    png += "\0\0\0\x0bIDAT\x78\x9c\x63\0\x01\0\0\x05\0\x01\x0d\x0a\x2d\xb4"s;
    png += "\0\0\0\0IEND\xae\x42\x60\x82"s;
    png.push_back(static_cast<char>(salt)); // trailing byte: a different image, a different ETag
    return png;
}

} // namespace it
