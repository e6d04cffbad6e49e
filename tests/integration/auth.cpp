// Tokens and store walls (PROTOCOL.md section 5) on every kind of endpoint:
// pull, check, admin, images, SSE and the WebSocket upgrade.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

namespace integration_auth_test {

using namespace it;

struct seeded : server_fixture {
    seeded()
    {
        auto c = http();
        product = create(c, "products", R"({"name":"Espresso"})");
        BOOST_TEST_REQUIRE(c.send(http::verb::put, "/api/v1/products/" + std::to_string(product) + "/image", tiny_png(),
                                  admin_token, {{"Content-Type", "image/png"}})
                               .status
                           == 200u);
        table = create(c, "tables", R"({"name":"T1","store_id":1})");
    }
    std::int64_t product = 0;
    std::int64_t table = 0;

    std::string product_url() const { return "/api/v1/products/" + std::to_string(product); }
};

BOOST_FIXTURE_TEST_SUITE(auth_suite, seeded)

BOOST_AUTO_TEST_CASE(missing_or_unknown_token_is_401_on_every_endpoint)
{
    auto c = http();
    const auto before = snapshot();
    const std::vector<std::pair<http::verb, std::string>> endpoints{
        {http::verb::get, "/api/v1/sync/products"},
        {http::verb::get, "/api/v1/sync/incremental?entity_type=table&store_id=1"},
        {http::verb::get, "/api/v1/sync/check"},
        {http::verb::get, "/api/v1/sync/check?wait=5"},
        {http::verb::get, "/api/v1/products"},
        {http::verb::get, product_url()},
        {http::verb::post, "/api/v1/products"},
        {http::verb::patch, product_url()},
        {http::verb::put, product_url()},
        {http::verb::delete_, product_url()},
        {http::verb::get, product_url() + "/image"},
        {http::verb::put, product_url() + "/image"},
    };
    for (std::string token : {"", "wrong", "admin-token-but-longer", "ADMIN-TOKEN", "till"}) {
        for (const auto& [method, target] : endpoints) {
            auto r = c.send(method, target, method == http::verb::get || method == http::verb::delete_ ? "" : R"({"name":"X"})",
                            token);
            BOOST_TEST(r.status == 401u, "'" << token << "' " << http::to_string(method) << ' ' << target << ": " << r.status);
            BOOST_TEST(r.is_error("unauthorized"), r.body());
        }
    }
    // Not a bearer token at all.
    for (std::string header : {"Basic YWRtaW46YWRtaW4=", "admin-token", "Bearer", "Bearer ", "Token admin-token"}) {
        auto r = c.get("/api/v1/sync/products", "", {{"Authorization", header}});
        BOOST_TEST(r.status == 401u, header);
    }
    // The scheme is case-insensitive.
    BOOST_TEST(c.get("/api/v1/sync/products", "", {{"Authorization", "bearer admin-token"}}).status == 200u);
    // `?token=` is for WebSocket and SSE URLs only.
    BOOST_TEST(c.get("/api/v1/sync/products?token=admin-token", "").status == 401u);
    BOOST_TEST(snapshot() == before);
}

BOOST_AUTO_TEST_CASE(missing_or_unknown_token_is_401_on_streams_without_upgrading)
{
    for (std::string query : {"", "&token=", "&token=wrong"}) {
        BOOST_TEST_CONTEXT("query '" << query << "'")
        {
            ws_client ws(port(), "/ws/sync/7?store_id=1" + query);
            BOOST_TEST(!ws.is_open());
            BOOST_TEST(ws.status() == 401u);
            BOOST_TEST(is_error_body(ws.refusal_body(), "unauthorized"), ws.refusal_body());

            sse_client sse(port(), "/api/v1/sync/events?cash_register_id=7&store_id=1" + query);
            BOOST_TEST(sse.status() == 401u);
            BOOST_TEST(is_error_body(sse.refusal_body(), "unauthorized"), sse.refusal_body());
        }
    }
    // A wrong header token is not rescued by a right query token... nor the reverse.
    ws_client wrong_header(port(), "/ws/sync/7?store_id=1&token=till-1", {{"Authorization", "Bearer wrong"}});
    BOOST_TEST(wrong_header.status() == 401u);
    BOOST_TEST(stats().websocket_connections == 0u);
    BOOST_TEST(stats().event_streams == 0u);
}

BOOST_AUTO_TEST_CASE(register_tokens_may_not_write_or_use_the_console)
{
    auto c = http();
    const auto before = snapshot();
    const std::vector<std::pair<http::verb, std::string>> writes{
        {http::verb::post, "/api/v1/products"},
        {http::verb::post, "/api/v1/tables"},
        {http::verb::patch, product_url()},
        {http::verb::put, product_url()},
        {http::verb::delete_, product_url()},
        {http::verb::patch, "/api/v1/tables/" + std::to_string(table)},
        {http::verb::delete_, "/api/v1/tables/" + std::to_string(table)},
        {http::verb::put, product_url() + "/image"},
        {http::verb::get, "/api/v1/products"},
        {http::verb::get, product_url()},
        {http::verb::get, "/api/v1/tables?store_id=1"},
    };
    for (auto token : {till_1, till_2}) {
        for (const auto& [method, target] : writes) {
            auto r = c.send(method, target, method == http::verb::get || method == http::verb::delete_ ? "" : R"({"name":"X","store_id":1})",
                            token);
            BOOST_TEST(r.status == 403u, token << ' ' << http::to_string(method) << ' ' << target << ": " << r.status);
            BOOST_TEST(r.is_error("forbidden"), r.body());
        }
    }
    BOOST_TEST(snapshot() == before);
}

BOOST_AUTO_TEST_CASE(register_tokens_are_walled_to_their_store)
{
    auto c = http();
    // Its own store: allowed everywhere.
    BOOST_TEST(c.get("/api/v1/sync/tables?store_id=1", till_1).status == 200u);
    BOOST_TEST(c.get("/api/v1/sync/incremental?entity_type=table&store_id=1", till_1).status == 200u);
    BOOST_TEST(c.get("/api/v1/sync/check?store_id=1", till_1).status == 200u);
    BOOST_TEST(c.get("/api/v1/sync/products", till_1).status == 200u); // global data
    // Another store's: 403 on pull, check, SSE and WebSocket.
    for (std::string target : {"/api/v1/sync/tables?store_id=2", "/api/v1/sync/incremental?entity_type=table&store_id=2",
                               "/api/v1/sync/settings?store_id=2", "/api/v1/sync/products?store_id=2",
                               "/api/v1/sync/check?store_id=2", "/api/v1/sync/check?store_id=2&wait=5"}) {
        auto r = c.get(target, till_1);
        BOOST_TEST(r.status == 403u, target << ": " << r.status);
        BOOST_TEST(r.is_error("forbidden"), r.body());
    }
    sse_client sse(port(), "/api/v1/sync/events?cash_register_id=7&store_id=2", till_1);
    BOOST_TEST(sse.status() == 403u);
    BOOST_TEST(is_error_body(sse.refusal_body(), "forbidden"), sse.refusal_body());
    ws_client ws(port(), "/ws/sync/7?store_id=2&token=till-1");
    BOOST_TEST(!ws.is_open());
    BOOST_TEST(ws.status() == 403u);
    BOOST_TEST(is_error_body(ws.refusal_body(), "forbidden"), ws.refusal_body());
    ws_client header(port(), "/ws/sync/7?store_id=1", {{"Authorization", "Bearer till-2"}});
    BOOST_TEST(header.status() == 403u);
    BOOST_TEST(stats().websocket_connections == 0u);
}

BOOST_AUTO_TEST_CASE(a_register_stream_without_store_id_is_its_own_store)
{
    auto admin = http();
    ws_client ws(port(), "/ws/sync/7?token=till-2");
    BOOST_TEST_REQUIRE(ws.is_open());
    (void)create(admin, "tables", R"({"name":"T1","store_id":1})");
    const auto mine = create(admin, "tables", R"({"name":"T2","store_id":2})");
    auto n = ws.next_json();
    BOOST_TEST_REQUIRE(n.has_value());
    BOOST_TEST(n->at("entity_type") == json::value("table"));
    BOOST_TEST(n->at("entity_id") == json::value(mine));
    BOOST_TEST(n->at("seq") == json::value(1)); // store 1's table never came
}

BOOST_AUTO_TEST_CASE(query_token_is_accepted_on_websocket_and_sse)
{
    ws_client ws(port(), "/ws/sync/7?store_id=1&token=till-1");
    BOOST_TEST(ws.is_open());
    BOOST_TEST(ws.status() == 101u);
    sse_client sse(port(), "/api/v1/sync/events?cash_register_id=7&store_id=1&token=till-1");
    BOOST_TEST(sse.status() == 200u);
    BOOST_TEST(sse.content_type().starts_with("text/event-stream"), sse.content_type());
    ws_client admin(port(), "/ws/sync/console?token=admin-token");
    BOOST_TEST(admin.is_open());
    // And a header token on both, as native clients send it.
    ws_client header(port(), "/ws/sync/8?store_id=1", {{"Authorization", "Bearer till-1"}});
    BOOST_TEST(header.is_open());
    sse_client sse_header(port(), "/api/v1/sync/events?cash_register_id=8&store_id=1", till_1);
    BOOST_TEST(sse_header.status() == 200u);
    BOOST_TEST(wait_for_stats([](const auto& s) { return s.websocket_connections == 3 && s.event_streams == 2; }));
}

BOOST_AUTO_TEST_CASE(a_register_may_read_product_images)
{
    auto c = http();
    for (auto token : {till_1, till_2}) {
        auto r = c.get(product_url() + "/image", token);
        BOOST_TEST(r.status == 200u, r.body());
        BOOST_TEST(r.body() == tiny_png());
        BOOST_TEST(r.header("Content-Type") == "image/png");
        BOOST_TEST(c.get(product_url() + "/image?size=110", token).status == 200u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_auth_test
