// Fuzz target: raw bytes are what a client sends on one HTTP connection, one
// request or several pipelined. Each is parsed with Beast's parser under the
// server's limits (beast/detail/http_session.hpp: header limit, body limit
// per route) and answered by the real handler over an in-memory store with a
// few records and an admin and two register tokens, as http_session's
// dispatch does. WebSocket and SSE requests get the checks of what the
// session does before handing the socket over.
//
// Invariants (PROTOCOL.md section 6, DESIGN.md invariants 5 and 6):
// - never a 5xx;
// - every status >= 400 has the body {"error":{"code":string,"message":string}},
//   with no internals in it (unless the request itself carried the words);
// - a request answered >= 400 changed no data: the store's version and the
//   image repository's write count are what they were; a GET changed
//   nothing either, and any other request made at most one change;
// - a 2xx JSON body parses; Content-Length, when set, is the body's size; a
//   `next_since` is a cursor of this store, not ahead of it;
// - a register's answers hold no record of another store;
// - a request target logged by the session hides every `token=` value;
// - the query parser keeps the path exact and round-trips decoded parameters.
//
// INCSYNC_FUZZ_DEBUG=1 in the environment prints each request and its answer.
#include "fuzz.hpp"

#include <incsync/beast/detail/http_session.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/server/handler.hpp>
#include <incsync/server/images.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fuzz_http_request {

using namespace incsync;
namespace http = boost::beast::http;
namespace json = boost::json;
using store_t = memory::server_store<pos::entities>;

// Tokens and the epoch are fixed, so seeds may carry them and valid cursors.
constexpr std::string_view admin_token = "fuzz-admin";
constexpr std::string_view register_1_token = "fuzz-register-1";
constexpr std::string_view register_2_token = "fuzz-register-2";
constexpr std::uint64_t epoch = 0x00C0FFEE;

// The server's limits (beast/server_options.hpp defaults).
const beast::server_options server_defaults{};

/// Images in memory, counting every write: a refused request must make none.
class counting_images final : public server::image_repository {
public:
    result<void> put(std::string_view type, std::int64_t id, std::string_view rendition, server::image_ptr img) override
    {
        ++writes;
        return inner_.put(type, id, rendition, std::move(img));
    }
    result<server::image_ptr> get(std::string_view type, std::int64_t id, std::string_view rendition) const override
    {
        return inner_.get(type, id, rendition);
    }
    result<void> remove(std::string_view type, std::int64_t id) override
    {
        ++writes;
        return inner_.remove(type, id);
    }
    std::size_t writes = 0;

private:
    server::memory_image_repository inner_;
};

/// The server an input talks to: always this state when an input starts
/// (LLVMFuzzerTestOneInput makes a new one after an input that changed it).
struct world {
    store_t store{memory::server_store_options{.epoch = epoch}};
    std::shared_ptr<counting_images> images = std::make_shared<counting_images>();
    server::handler<store_t> api{store, options()};

    world()
    {
        // Versions 1..15 (seeded_version): seeds may hold cursors up to 15.
        seed<pos::product>(R"({"name":"Espresso","sku":"ESP","price_cents":250,"category_id":1,"is_active":true})");
        seed<pos::product>(R"({"name":"Latte","sku":"LAT","price_cents":320,"image_version":1})");
        seed<pos::category>(R"({"name":"Drinks","description":"Hot and cold"})");
        seed<pos::material>(R"({"name":"Milk","unit_cost_cents":90})");
        seed<pos::unit_of_measure>(R"({"name":"Litre","abbreviation":"l"})");
        seed<pos::product_unit_of_measure>(R"({"product_id":1,"unit_of_measure_id":1,"factor":"1.5"})");
        seed<pos::material_unit_of_measure>(R"({"material_id":1,"unit_of_measure_id":1,"factor":"0.25"})");
        seed<pos::recipe>(R"({"product_id":1,"name":"Espresso"})");
        seed<pos::recipe_material>(R"({"recipe_id":1,"material_id":1,"quantity":"0.03"})");
        seed<pos::setting>(R"({"key":"currency","value":"EUR"})");
        seed<pos::setting>(R"({"key":"receipt_footer","value":"Thanks","store_id":2})");
        seed<pos::table>(R"({"store_id":1,"name":"T1","seats":4,"status":"free"})");
        seed<pos::table>(R"({"store_id":2,"name":"T2","seats":2,"status":"busy"})");
        seed<pos::inventory_config>(R"({"store_id":1,"track_stock":true,"low_stock_threshold":"5"})");
        seed<pos::document_prefix>(R"({"store_id":2,"document_type":"invoice","prefix":"INV-","next_number":7})");
        (void)images->put("product", 2, "", server::make_image("GIF89a fuzz"));
        images->writes = 0;
        if (*store.high_water() != seeded_version) std::abort();
    }

    static constexpr version_t seeded_version = 15;

    template <entity E>
    void seed(std::string_view json)
    {
        const auto value = from_json_text<E>(json, create_decode);
        if (!value || !store.create(*value)) std::abort();
    }

    server::handler_options options()
    {
        server::handler_options o = server_defaults.api;
        o.tokens.add_admin(std::string(admin_token));
        o.tokens.add_register(std::string(register_1_token), 1);
        o.tokens.add_register(std::string(register_2_token), 2);
        o.images = images;
        return o;
    }
};

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// `{"error":{"code":string,"message":string}}` and nothing else.
bool is_error_body(std::string_view body)
{
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    if (!o || o->size() != 1) return false;
    const auto* e = o->if_contains("error");
    const auto* eo = e ? e->if_object() : nullptr;
    if (!eo || eo->size() != 2) return false;
    const auto* code = eo->if_contains("code");
    const auto* message = eo->if_contains("message");
    return code && code->is_string() && !code->get_string().empty() && message && message->is_string();
}

/// No record of another store than `store` in a JSON answer.
bool walled(const json::value& v, std::int64_t store)
{
    if (const auto* o = v.if_object()) {
        for (const auto& kv : *o) {
            if (kv.key() == "store_id" && kv.value().is_int64() && kv.value().get_int64() != store) return false;
            if (!walled(kv.value(), store)) return false;
        }
    } else if (const auto* a = v.if_array()) {
        for (const auto& e : *a)
            if (!walled(e, store)) return false;
    }
    return true;
}

struct input_context {
    std::string lowered; ///< the whole input, for "did the request say this itself"
};

void check_error_text(const input_context& in, std::string_view body)
{
    static constexpr std::string_view internals[] = {"what()", "boost", "std::", ".hpp", ".cpp", "sqlite",
                                                     "exception", "terminate", "errno"};
    const auto text = lower(body);
    for (auto word : internals)
        INCSYNC_FUZZ_CHECK(text.find(word) == std::string::npos || in.lowered.find(word) != std::string::npos);
}

/// What every answer must satisfy, given the store before the request.
void check_response(const input_context& in, world& w, const server::request& req, const server::response& res,
                    version_t version_before, std::size_t image_writes_before)
{
    const unsigned status = res.result_int();
    INCSYNC_FUZZ_CHECK(status >= 100 && status < 500);
    // A read changes nothing; a write makes at most one change.
    const auto version = *w.store.high_water();
    if (req.method() == http::verb::get || req.method() == http::verb::head) INCSYNC_FUZZ_CHECK(version == version_before);
    INCSYNC_FUZZ_CHECK(version <= version_before + 1);
    if (const auto length = res.find(http::field::content_length); length != res.end())
        INCSYNC_FUZZ_CHECK(length->value() == std::to_string(res.body().size()));
    const bool json_body = res[http::field::content_type] == "application/json";
    if (status >= 400) {
        INCSYNC_FUZZ_CHECK(json_body);
        INCSYNC_FUZZ_CHECK(is_error_body(res.body()));
        check_error_text(in, res.body());
        INCSYNC_FUZZ_CHECK(*w.store.high_water() == version_before);
        INCSYNC_FUZZ_CHECK(w.images->writes == image_writes_before);
        return;
    }
    if (!json_body) return;
    boost::system::error_code ec;
    const auto v = json::parse(res.body(), ec);
    INCSYNC_FUZZ_CHECK(!ec);
    const auto who = w.api.authenticate(req);
    if (who && who->role == server::role::cash_register) INCSYNC_FUZZ_CHECK(walled(v, *who->store_id));
    // A pull's or check's next_since is a cursor of this store, not ahead of it.
    if (const auto* o = v.if_object())
        if (const auto* next = o->if_contains("next_since")) {
            INCSYNC_FUZZ_CHECK(next->is_string());
            const auto c = decode_cursor(next->get_string());
            INCSYNC_FUZZ_CHECK(c.has_value() && c->epoch == epoch && c->version <= version);
        }
}

/// `loggable_target` (what the session logs) shows no `token=` value: every
/// query parameter whose key decodes to "token" has the value "***".
void check_loggable_target(std::string_view raw_target)
{
    const std::string logged = beast::detail::loggable_target(raw_target);
    INCSYNC_FUZZ_CHECK(logged.size() <= 512 || logged.find('?') != std::string::npos);
    const auto q = logged.find('?');
    if (q == std::string::npos) return;
    for (auto pair : incsync_fuzz::split(std::string_view(logged).substr(q + 1), "&")) {
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue; // no value to hide
        if (incsync::detail::percent_decode(pair.substr(0, eq)) == "token") INCSYNC_FUZZ_CHECK(pair.substr(eq + 1) == "***");
    }
}

std::string percent_encode_all(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        out.push_back('%');
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

/// parse_target: the path is the target up to '?'; decoded parameters hold
/// no NUL and, percent-encoded again, parse back to themselves.
void check_target(std::string_view raw, const incsync::detail::target& t)
{
    INCSYNC_FUZZ_CHECK(t.path == raw.substr(0, raw.find('?')));
    std::string again(t.path);
    again.push_back('?');
    for (const auto& [k, v] : t.params) {
        INCSYNC_FUZZ_CHECK(k.find('\0') == std::string_view::npos && v.find('\0') == std::string_view::npos);
        again += percent_encode_all(k) + '=' + percent_encode_all(v) + '&';
    }
    const auto back = incsync::detail::parse_target(again);
    INCSYNC_FUZZ_CHECK(!back.malformed);
    INCSYNC_FUZZ_CHECK(back.params.size() == t.params.size());
    for (std::size_t i = 0; i < t.params.size(); ++i) INCSYNC_FUZZ_CHECK(back.params[i] == t.params[i]);
}

/// What the session checks before it hands a WebSocket or SSE connection
/// over (open_stream): the parts that are functions of the request.
void check_stream_request(const server::request& req)
{
    if (!boost::beast::websocket::is_upgrade(req)) return;
    const auto key = req[http::field::sec_websocket_key];
    const std::string_view k(key.data(), key.size());
    if (!beast::detail::valid_websocket_key(k)) return;
    const auto accept = beast::detail::websocket_accept(k);
    INCSYNC_FUZZ_CHECK(accept.size() == 28 && accept.back() == '=');
    for (std::size_t i = 0; i < 27; ++i) INCSYNC_FUZZ_CHECK(beast::detail::is_base64_char(accept[i]));
}

/// The session's answer to a request it could not read (on_read_error, on_header).
server::response refusal(boost::system::error_code ec)
{
    if (ec == http::error::body_limit)
        return server::error_response(http::status::payload_too_large, "payload_too_large", "request body too large");
    if (ec == http::error::header_limit)
        return server::error_response(http::status::request_header_fields_too_large, "header_too_large",
                                      "request headers too large");
    return server::error_response(http::status::bad_request, "bad_request", "malformed HTTP request: " + ec.message());
}

/// Feeds `in` to the parser until `done()`; false on a parse error or the end
/// of the input first (`ec` says which; end_of_stream when nothing came).
template <class Done>
bool feed(http::request_parser<http::string_body>& p, std::string_view& in, boost::system::error_code& ec, Done done)
{
    for (int guard = 0; !done(); ++guard) {
        INCSYNC_FUZZ_CHECK(guard < 100'000); // each round consumes bytes or ends the input
        const auto n = p.put(boost::asio::buffer(in.data(), in.size()), ec);
        in.remove_prefix(n);
        if (ec == http::error::need_more) ec = {};
        if (ec) return false;
        if (n == 0) { // it needs more than the input has: the peer closed
            p.put_eof(ec);
            if (ec) return false;
        }
    }
    return true;
}

} // namespace fuzz_http_request

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fuzz_http_request;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const input_context context{lower(in)};
    // Every input starts from the seeded server, so each one reproduces on
    // its own. It is reused while inputs change nothing (most do not): a new
    // one per input would cost nine tenths of the speed.
    static std::unique_ptr<world> shared;
    if (!shared || *shared->store.high_water() != world::seeded_version || shared->images->writes != 0)
        shared = std::make_unique<world>();
    world& w = *shared;
    const auto& opts = server_defaults;

    // At most 8 requests per input: the interesting part is their order.
    for (int n = 0; n < 8 && !in.empty(); ++n) {
        const auto version_before = *w.store.high_water();
        const auto image_writes_before = w.images->writes;
        const server::request empty_request;
        auto refused = [&](server::response res) {
            check_response(context, w, empty_request, res, version_before, image_writes_before);
        };

        http::request_parser<http::string_body> p;
        p.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
        p.body_limit(std::max(opts.api.max_body_bytes, opts.api.max_image_bytes));
        boost::system::error_code ec;
        if (!feed(p, in, ec, [&] { return p.is_header_done(); })) {
            if (ec != http::error::end_of_stream) refused(refusal(ec));
            return 0; // the connection is closed
        }
        // on_header: the body limit of the route.
        {
            const auto& req = p.get();
            const auto target = std::string_view(req.target().data(), req.target().size());
            const auto path = target.substr(0, target.find('?'));
            const bool image_upload = req.method() == http::verb::put && path.ends_with("/image");
            const auto limit = image_upload ? opts.api.max_image_bytes : opts.api.max_body_bytes;
            p.body_limit(limit);
            if (const auto length = p.content_length(); length && *length > limit) {
                refused(refusal(http::error::body_limit));
                return 0;
            }
        }
        p.eager(true);
        if (!feed(p, in, ec, [&] { return p.is_done(); })) {
            refused(refusal(ec));
            return 0;
        }
        const server::request req = p.release();

        // dispatch
        const auto raw_target = std::string_view(req.target().data(), req.target().size());
        const auto target = incsync::detail::parse_target(raw_target);
        check_target(raw_target, target);
        check_loggable_target(raw_target);
        if (target.path.starts_with("/ws/sync/") || target.path == "/api/v1/sync/events") {
            check_stream_request(req);
            return 0; // the connection becomes a stream, or is refused and closed
        }
        std::optional<server::long_poll> wait;
        auto res = w.api.handle(req, target, &wait, {});
        static const bool debug = std::getenv("INCSYNC_FUZZ_DEBUG") != nullptr;
        if (debug)
            std::fprintf(stderr, "%s %s -> %u %s\n", std::string(req.method_string()).c_str(), std::string(raw_target).c_str(),
                         res.result_int(), res.body().substr(0, 200).c_str());
        check_response(context, w, req, res, version_before, image_writes_before);
        if (wait) {
            INCSYNC_FUZZ_CHECK(wait->wait.count() >= 1 && wait->wait.count() <= 60);
            // The wait ran out with nothing changed: the session answers again.
            res = w.api.handle(req);
            check_response(context, w, req, res, version_before, image_writes_before);
        }
        if (!res.keep_alive()) return 0;
    }
    return 0;
}
