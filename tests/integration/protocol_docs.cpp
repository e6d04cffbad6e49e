// docs/protocol.md checked against the code, so the reference cannot drift:
// - every route it lists (`### \`METHOD /path\`` headings, and the route
//   index) answers on a live server, for every entity type, and every route
//   the server has is listed;
// - its entity table is the code's entity list (entity_type, path, scope);
// - its error table is every code the server emits, each with its statuses:
//   the codes come from the headers themselves (error_response, refuse and
//   refuse_stream call sites, the WebSocket error message) and from
//   wire::protocol_code for every incsync::error, so a new code fails here
//   until it is documented;
// - its limits table holds the code's defaults.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <incsync/beast/server_options.hpp>
#include <incsync/codec.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/server/images.hpp>
#include <incsync/store.hpp>
#include <incsync/wire/error_response.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace integration_protocol_docs_test {

using namespace it;
namespace fs = std::filesystem;
using entities = incsync::pos::entities;

// ---- the documentation and the sources ---------------------------------------

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The repository: two levels above this file, or (when the compiler was
/// given a relative path, as Meson does) the first directory upwards from
/// the working directory that holds docs/protocol.md and include/incsync.
fs::path repository()
{
    auto holds_docs = [](const fs::path& d) {
        std::error_code ec;
        return fs::is_regular_file(d / "docs/protocol.md", ec) && fs::is_directory(d / "include/incsync", ec);
    };
    const fs::path here = fs::path(__FILE__).parent_path() / "../..";
    if (holds_docs(here)) return here;
    std::error_code ec;
    for (auto d = fs::current_path(ec); !d.empty(); d = d.parent_path()) {
        if (holds_docs(d)) return d;
        if (d == d.parent_path()) break;
    }
    return {};
}

const std::string& protocol_md()
{
    static const std::string text = [] {
        const auto root = repository();
        return root.empty() ? std::string() : read_file(root / "docs/protocol.md");
    }();
    return text;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

/// Every line matching `re` entirely: its capture groups (copied: the
/// lines may be a temporary).
std::vector<std::vector<std::string>> matching_lines(const std::vector<std::string>& lines, const std::regex& re)
{
    std::vector<std::vector<std::string>> out;
    for (const auto& line : lines) {
        std::smatch m;
        if (std::regex_match(line, m, re)) out.emplace_back(m.begin(), m.end());
    }
    return out;
}

/// The text of the section headed `## title`, up to the next `## `.
std::string section(const std::string& text, const std::string& title)
{
    const auto start = text.find("\n## " + title + "\n");
    if (start == std::string::npos) return {};
    const auto end = text.find("\n## ", start + 1);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct route {
    std::string method;
    std::string path;
    auto operator<=>(const route&) const = default;
    std::string text() const { return method + ' ' + path; }
};

const std::regex route_span_re{R"(`(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[^`\s]*)`)"};

/// The routes of the `### \`METHOD /path\`` headings under "## Routes".
std::set<route> documented_routes()
{
    std::set<route> out;
    const std::regex heading{R"(### `(\S+) (/\S*)`)"};
    for (const auto& m : matching_lines(lines_of(section(protocol_md(), "Routes")), heading))
        out.insert({m[1], m[2]});
    return out;
}

/// The routes of the table under "## Route index" (first column).
std::set<route> indexed_routes()
{
    std::set<route> out;
    const std::regex row{R"(\| `(\S+) (/\S*)` \|.*)"};
    for (const auto& m : matching_lines(lines_of(section(protocol_md(), "Route index")), row)) out.insert({m[1], m[2]});
    return out;
}

/// `| \`name\` | value ...` rows of a section: name -> the row.
std::map<std::string, std::string> table_rows(const std::string& title)
{
    std::map<std::string, std::string> out;
    const std::regex row{R"(\| `([^`]+)` \|(.*))"};
    for (const auto& m : matching_lines(lines_of(section(protocol_md(), title)), row)) out[m[1]] = m[2];
    return out;
}

/// The first whole number in `s`, or -1.
long long first_number(const std::string& s)
{
    std::smatch m;
    if (!std::regex_search(s, m, std::regex(R"(\d+)"))) return -1;
    return std::stoll(m[0]);
}

// ---- requests ------------------------------------------------------------------

/// A body a create accepts: the required members set (name, store_id, key).
template <class E>
std::string create_body()
{
    E v{};
    if constexpr (requires { v.name; }) v.name = "doc " + std::string(incsync::entity_type_name<E>);
    if constexpr (requires { v.store_id; }) v.store_id = 1;
    if constexpr (requires { v.key; }) v.key = "doc.key";
    return incsync::to_json(v); // `id` and `updated_at` in it are ignored
}

std::string describe(const http_reply& r)
{
    return std::to_string(r.status) + ' ' + r.failure + r.body().substr(0, 300);
}

/// Creates a record of `E` over HTTP; its id, or 0 after a failed check.
template <class E>
std::int64_t create_one(http_client& admin)
{
    return create(admin, incsync::entity_path<E>, create_body<E>());
}

/// The routes the server has, each with a request that exercises it on a
/// live server: {path} becomes every entity path segment, {id} a record of
/// that type, {cash_register_id} 7. The exercise fails when the route does
/// not answer its success status.
using exercise = std::function<void(server_fixture&, http_client& admin, http_client& till)>;

template <class F>
void for_each_type(F&& f)
{
    incsync::for_each_entity<entities>(std::forward<F>(f));
}

/// `method` on a fresh record of every type answers `status` (PATCH sends an
/// empty change, PUT a whole record).
exercise on_each_record(http::verb method, unsigned status)
{
    return [method, status](server_fixture&, http_client& admin, http_client&) {
        for_each_type([&]<class E>(std::type_identity<E>) {
            const auto target = "/api/v1/" + std::string(incsync::entity_path<E>) + '/'
                              + std::to_string(create_one<E>(admin));
            const std::string body = method == http::verb::patch ? "{}"
                                   : method == http::verb::put   ? create_body<E>()
                                                                 : "";
            auto r = admin.send(method, target, body);
            BOOST_TEST(r.status == status, target << ": " << describe(r));
        });
    };
}

const std::map<route, exercise>& known_routes()
{
    static const std::map<route, exercise> routes{
        {{"GET", "/api/v1/sync/{path}"},
         [](server_fixture&, http_client&, http_client& till) {
             for_each_type([&]<class E>(std::type_identity<E>) {
                 // By path segment and, as the doc says, by entity_type.
                 for (std::string_view name : {incsync::entity_path<E>, incsync::entity_type_name<E>}) {
                     auto r = till.get("/api/v1/sync/" + std::string(name) + "?store_id=1", till_1);
                     BOOST_TEST(r.status == 200u, "GET /api/v1/sync/" << name << ": " << describe(r));
                     if (r.status == 200)
                         BOOST_TEST(r.json().at("entity_type") == json::value(incsync::entity_type_name<E>));
                 }
             });
         }},
        {{"GET", "/api/v1/sync/incremental"},
         [](server_fixture&, http_client&, http_client& till) {
             for_each_type([&]<class E>(std::type_identity<E>) {
                 const auto target = "/api/v1/sync/incremental?entity_type=" + std::string(incsync::entity_type_name<E>)
                                   + "&store_id=1";
                 auto r = till.get(target, till_1);
                 BOOST_TEST(r.status == 200u, target << ": " << describe(r));
             });
         }},
        {{"GET", "/api/v1/sync/check"},
         [](server_fixture&, http_client&, http_client& till) {
             auto r = till.get("/api/v1/sync/check?store_id=1", till_1);
             BOOST_TEST(r.status == 200u, describe(r));
             if (r.status == 200) BOOST_TEST(r.json().at("changed").is_array());
         }},
        {{"GET", "/api/v1/sync/events"},
         [](server_fixture& s, http_client&, http_client&) {
             sse_client sse(s.port(), "/api/v1/sync/events?store_id=1&cash_register_id=7", till_1);
             BOOST_TEST(sse.status() == 200u, sse.refusal_body());
             BOOST_TEST(sse.content_type() == "text/event-stream");
         }},
        {{"GET", "/ws/sync/{cash_register_id}"},
         [](server_fixture& s, http_client&, http_client&) {
             ws_client ws(s.port(), "/ws/sync/7?store_id=1&token=" + std::string(till_1));
             BOOST_TEST(ws.status() == 101u, ws.refusal_body());
         }},
        {{"GET", "/api/v1/{path}"},
         [](server_fixture&, http_client& admin, http_client&) {
             for_each_type([&]<class E>(std::type_identity<E>) {
                 auto r = admin.get("/api/v1/" + std::string(incsync::entity_path<E>));
                 BOOST_TEST(r.status == 200u, incsync::entity_path<E> << ": " << describe(r));
                 if (r.status == 200) BOOST_TEST(r.json().is_array());
             });
         }},
        {{"POST", "/api/v1/{path}"},
         [](server_fixture&, http_client& admin, http_client&) {
             for_each_type([&]<class E>(std::type_identity<E>) { BOOST_TEST(create_one<E>(admin) > 0); });
         }},
        {{"GET", "/api/v1/{path}/{id}"}, on_each_record(http::verb::get, 200)},
        {{"PATCH", "/api/v1/{path}/{id}"}, on_each_record(http::verb::patch, 200)},
        {{"PUT", "/api/v1/{path}/{id}"}, on_each_record(http::verb::put, 200)},
        {{"DELETE", "/api/v1/{path}/{id}"}, on_each_record(http::verb::delete_, 204)},
        {{"PUT", "/api/v1/products/{id}/image"},
         [](server_fixture&, http_client& admin, http_client&) {
             const auto target = "/api/v1/products/" + std::to_string(create_one<incsync::pos::product>(admin)) + "/image";
             auto r = admin.send(http::verb::put, target, tiny_png(1));
             BOOST_TEST(r.status == 200u, target << ": " << describe(r));
             auto size = admin.send(http::verb::put, target + "?size=110", tiny_png(2));
             BOOST_TEST(size.status == 200u, target << "?size=110: " << describe(size));
         }},
        {{"GET", "/api/v1/products/{id}/image"},
         [](server_fixture&, http_client& admin, http_client& till) {
             const auto target = "/api/v1/products/" + std::to_string(create_one<incsync::pos::product>(admin)) + "/image";
             BOOST_TEST_REQUIRE(admin.send(http::verb::put, target, tiny_png(3)).status == 200u);
             auto r = till.get(target + "?size=110", till_1);
             BOOST_TEST(r.status == 200u, target << ": " << describe(r));
             const auto etag = r.header("ETag");
             BOOST_TEST(!etag.empty());
             auto again = till.get(target, till_1, {{"If-None-Match", etag}});
             BOOST_TEST(again.status == 304u, target << " If-None-Match: " << describe(again));
         }},
        {{"GET", "/{file}"},
         [](server_fixture&, http_client&, http_client& till) {
             // The fixture's web root holds index.html and app.js; no token needed.
             for (std::string target : {"/", "/index.html", "/app.js"}) {
                 auto r = till.get(target, "");
                 BOOST_TEST(r.status == 200u, target << ": " << describe(r));
             }
         }},
        {{"POST", "/api/v1/sync/analytics"},
         [](server_fixture&, http_client&, http_client& till) {
             auto r = till.send(http::verb::post, "/api/v1/sync/analytics", R"({"cash_register_id":3,"reconnects":1})", till_1);
             BOOST_TEST(r.status == 204u, describe(r));
         }},
        {{"GET", "/api/v1/sync/analytics"},
         [](server_fixture&, http_client& admin, http_client& till) {
             auto r = admin.get("/api/v1/sync/analytics");
             BOOST_TEST(r.status == 200u, describe(r));
             BOOST_TEST(r.json().is_array());
             BOOST_TEST(till.get("/api/v1/sync/analytics", till_1).status == 403u);
         }},
        {{"GET", "/metrics"},
         [](server_fixture&, http_client& admin, http_client& till) {
             auto r = admin.get("/metrics");
             BOOST_TEST(r.status == 200u, describe(r));
             BOOST_TEST(r.body().find("# TYPE incsync_pulls_total counter") != std::string::npos);
             BOOST_TEST(till.get("/metrics", till_1).status == 403u);
         }},
    };
    return routes;
}

/// A web root for the static files route: index.html and app.js in a
/// fresh directory, removed again by the destructor.
struct web_root {
    web_root()
    {
        static int n = 0;
        dir = fs::temp_directory_path() / ("incsync_protocol_docs_" + std::to_string(::getpid()) + '_' + std::to_string(++n));
        fs::create_directories(dir);
        std::ofstream(dir / "index.html") << "<!doctype html><title>POS</title>";
        std::ofstream(dir / "app.js") << "console.log('POS');";
    }
    ~web_root()
    {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    web_root(const web_root&) = delete;
    web_root& operator=(const web_root&) = delete;
    fs::path dir;
};

/// No rate limit (the test is one fast client), and the static files.
server_fixture::tweak options(const web_root& web)
{
    return [&web](incsync::beast::server_options& o) {
        o.rate = {0, 0};
        o.web_root = web.dir;
    };
}

BOOST_AUTO_TEST_SUITE(protocol_docs_suite)

BOOST_AUTO_TEST_CASE(the_reference_is_found_and_lists_routes)
{
    BOOST_TEST_REQUIRE(!protocol_md().empty(), "docs/protocol.md not found from " << __FILE__);
    BOOST_TEST(documented_routes().size() >= known_routes().size());
}

BOOST_AUTO_TEST_CASE(every_documented_route_answers_on_a_live_server_and_every_route_is_documented)
{
    const auto documented = documented_routes();
    BOOST_TEST_REQUIRE(!documented.empty());
    BOOST_TEST((indexed_routes() == documented), "the route index and the route headings differ");
    // Every code span naming a route anywhere on the page is a documented route.
    const auto& md = protocol_md();
    for (std::sregex_iterator it(md.begin(), md.end(), route_span_re), end; it != end; ++it) {
        const route r{(*it)[1], (*it)[2]};
        BOOST_TEST(documented.contains(r), "`" << r.text() << "` is mentioned but has no section under ## Routes");
    }

    web_root web;
    server_fixture server(options(web));
    auto admin = server.http();
    auto till = server.http();
    for (const auto& r : documented) {
        BOOST_TEST_CONTEXT(r.text())
        {
            auto known = known_routes().find(r);
            if (known == known_routes().end()) {
                BOOST_ERROR("docs/protocol.md documents " << r.text()
                                                          << ", which this test does not know: a route the server "
                                                             "lacks, or a new one to add to known_routes()");
                continue;
            }
            known->second(server, admin, till);
        }
    }
    for (const auto& [r, exercise] : known_routes())
        BOOST_TEST(documented.contains(r), r.text() << " is served but not in docs/protocol.md");
}

BOOST_AUTO_TEST_CASE(the_route_check_fails_for_a_route_that_does_not_exist)
{
    web_root web;
    server_fixture server(options(web));
    auto c = server.http();
    auto missing = c.get("/api/v1/sync/customers", till_1);
    BOOST_TEST(missing.status == 404u);
    BOOST_TEST(missing.is_error("not_found"));
    auto method = c.send(http::verb::post, "/api/v1/sync/products", "{}");
    BOOST_TEST(method.status == 405u);
    BOOST_TEST(method.header("Allow") == "GET");
}

BOOST_AUTO_TEST_CASE(the_entity_table_is_the_code_entity_list)
{
    std::map<std::string, std::string> code;
    for_each_type([&]<class E>(std::type_identity<E>) {
        const auto scope = incsync::entity_scope<E>;
        code[std::string(incsync::entity_type_name<E>)] =
            "`" + std::string(incsync::entity_path<E>) + "` | "
            + (scope == incsync::scope::global ? "global" : scope == incsync::scope::store ? "store" : "mixed");
    });
    std::map<std::string, std::string> doc;
    const std::regex row{R"(\| `([a-z_]+)` \| (`[a-z-]+` \| [a-z]+) \|.*)"};
    for (const auto& m : matching_lines(lines_of(section(protocol_md(), "Entity types")), row)) doc[m[1]] = m[2];
    BOOST_TEST(doc.size() == code.size());
    for (const auto& [name, rest] : code) {
        auto it = doc.find(name);
        BOOST_TEST((it != doc.end()), "entity type " << name << " is not in the entity table");
        if (it != doc.end()) BOOST_TEST(it->second == rest, name);
    }
    for (const auto& [name, rest] : doc) BOOST_TEST(code.contains(name), "the entity table lists " << name << ", unknown to the code");
}

/// Status enumerators of boost::beast::http::status used by the server's error calls.
unsigned status_number(const std::string& name)
{
    static const std::map<std::string, unsigned> numbers{
        {"bad_request", 400},
        {"unauthorized", 401},
        {"forbidden", 403},
        {"not_found", 404},
        {"method_not_allowed", 405},
        {"conflict", 409},
        {"gone", 410},
        {"payload_too_large", 413},
        {"unsupported_media_type", 415},
        {"upgrade_required", 426},
        {"too_many_requests", 429},
        {"request_header_fields_too_large", 431},
        {"internal_server_error", 500},
        {"service_unavailable", 503},
    };
    auto it = numbers.find(name);
    return it == numbers.end() ? 0 : it->second;
}

/// Every (error code, HTTP status) the server can answer, from its sources.
std::map<std::string, std::set<unsigned>> emitted_error_codes()
{
    std::map<std::string, std::set<unsigned>> out;
    // Library errors: every incsync::error through the wire mapping; errors
    // of other categories are internal_error (wire::error_json).
    for (int e = 1; e <= static_cast<int>(incsync::error::storage_failure); ++e) {
        const auto value = static_cast<incsync::error>(e);
        out[std::string(incsync::wire::protocol_code(value))].insert(incsync::wire::http_status(value));
    }
    out["internal_error"].insert(500);
    // Literal codes at the call sites in the headers.
    const auto root = repository();
    const std::regex call{R"re((?:error_response|refuse|refuse_stream)\(\s*http::status::(\w+),\s*"(\w+)")re"};
    const std::regex message{R"re("code":"(\w+)")re"};
    std::size_t calls = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root / "include")) {
        if (entry.path().extension() != ".hpp") continue;
        const auto text = read_file(entry.path());
        for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
            const unsigned status = status_number((*it)[1]);
            BOOST_TEST(status != 0, entry.path() << ": unknown status " << (*it)[1] << ": add it to status_number()");
            out[(*it)[2]].insert(status);
            ++calls;
        }
        // A WebSocket `{"type":"error","error":{"code":...}}` message answers a 101'd connection.
        for (std::sregex_iterator it(text.begin(), text.end(), message), end; it != end; ++it)
            if (!out.contains((*it)[1])) out[(*it)[1]] = {};
    }
    BOOST_TEST(calls >= 20u, "the error call sites were not found under " << (root / "include"));
    return out;
}

BOOST_AUTO_TEST_CASE(every_error_code_the_server_emits_is_documented_with_its_statuses)
{
    const auto emitted = emitted_error_codes();
    const auto doc = table_rows("Errors");
    for (const auto& [code, statuses] : emitted) {
        auto it = doc.find(code);
        BOOST_TEST((it != doc.end()), "error code " << code << " is emitted but not in the Errors table");
        if (it == doc.end()) continue;
        for (unsigned status : statuses)
            BOOST_TEST(it->second.find(std::to_string(status)) != std::string::npos,
                       code << ": status " << status << " is not in its row");
    }
    for (const auto& [code, row] : doc) BOOST_TEST(emitted.contains(code), "the Errors table lists " << code << ", which the server never sends");
}

BOOST_AUTO_TEST_CASE(limits_and_defaults_match_the_code)
{
    using ms = std::chrono::milliseconds;
    const incsync::beast::server_options o{};
    const incsync::memory::server_store_options store{};
    std::map<std::string, long long> code{
        {"threads", o.threads},
        {"api.max_body_bytes", static_cast<long long>(o.api.max_body_bytes)},
        {"api.max_image_bytes", static_cast<long long>(o.api.max_image_bytes)},
        {"api.gzip_min_bytes", static_cast<long long>(o.api.gzip_min_bytes)},
        {"api.gzip_level", o.api.gzip_level},
        {"api.max_analytics_bytes", static_cast<long long>(o.api.max_analytics_bytes)},
        {"api.max_analytics_registers", static_cast<long long>(o.api.max_analytics_registers)},
        {"permessage_deflate.min_bytes", static_cast<long long>(o.permessage_deflate.min_bytes)},
        {"permessage_deflate.level", o.permessage_deflate.level},
        {"max_header_bytes", static_cast<long long>(o.max_header_bytes)},
        {"rate.per_second", static_cast<long long>(o.rate.per_second)},
        {"rate.burst", static_cast<long long>(o.rate.burst)},
        {"idle_timeout", std::chrono::duration_cast<ms>(o.idle_timeout).count()},
        {"header_timeout", std::chrono::duration_cast<ms>(o.header_timeout).count()},
        {"max_connections_per_address", static_cast<long long>(o.max_connections_per_address)},
        {"heartbeat_interval", std::chrono::duration_cast<ms>(o.heartbeat_interval).count()},
        {"stall_timeout", std::chrono::duration_cast<ms>(o.stall_timeout).count()},
        {"stream_send_buffer", static_cast<long long>(o.stream_send_buffer)},
        {"outbox_capacity", static_cast<long long>(o.outbox_capacity)},
        {"max_client_message", static_cast<long long>(o.max_client_message)},
        {"default_page_limit", static_cast<long long>(incsync::default_page_limit)},
        {"max_page_limit", static_cast<long long>(incsync::max_page_limit)},
        {"retention_days", std::chrono::duration_cast<std::chrono::hours>(store.retention).count() / 24},
    };
    std::map<std::string, long long> doc;
    for (const auto& [name, row] : table_rows("Limits and defaults")) doc[name] = first_number(row);
    for (const auto& [name, value] : code) {
        BOOST_TEST(doc.contains(name), name << " is not in the limits table");
        if (doc.contains(name)) BOOST_TEST(doc[name] == value, name);
    }

    // The handler's own constants are private: their documented values are
    // checked by behaviour, at the limit and one past it.
    BOOST_TEST_REQUIRE(doc.contains("max_wait_seconds"));
    BOOST_TEST_REQUIRE(doc.contains("max_image_size"));
    const auto wait = doc["max_wait_seconds"];
    const auto size = doc["max_image_size"];
    web_root web;
    server_fixture server(options(web));
    auto c = server.http();
    const auto id = create_one<incsync::pos::product>(c);
    const auto image = "/api/v1/products/" + std::to_string(id) + "/image";
    BOOST_TEST_REQUIRE(c.send(http::verb::put, image, tiny_png(4)).status == 200u);
    // Something changed since the beginning: a check answers at once.
    const auto start = steady::now();
    BOOST_TEST(c.get("/api/v1/sync/check?wait=" + std::to_string(wait)).status == 200u);
    BOOST_TEST((steady::now() - start < op_timeout));
    BOOST_TEST(c.get("/api/v1/sync/check?wait=" + std::to_string(wait + 1)).is_error("bad_request"));
    BOOST_TEST(c.get(image + "?size=" + std::to_string(size)).status == 200u);
    BOOST_TEST(c.get(image + "?size=" + std::to_string(size + 1)).is_error("bad_request"));
    BOOST_TEST(c.get("/api/v1/sync/products?limit=" + std::to_string(code["max_page_limit"])).status == 200u);
    BOOST_TEST(c.get("/api/v1/sync/products?limit=" + std::to_string(code["max_page_limit"] + 1)).is_error("bad_request"));
    for (const auto& [name, value] : doc)
        BOOST_TEST((code.contains(name) || name == "max_wait_seconds" || name == "max_image_size"),
                   "the limits table lists " << name << ", which this test does not check");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_protocol_docs_test
