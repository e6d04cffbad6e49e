// Real time (PROTOCOL.md section 3): WebSocket and SSE notifications, store
// walls, seq numbering, client pings, server heartbeats, dead peers.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace integration_realtime_test {

using namespace it;

// Two io_context threads: connections on strands, publishers on other threads.
struct two_threads : server_fixture {
    two_threads() : server_fixture({}, 2) {}
};

// Checks one notification's members and values; returns it for more checks.
void check_notification(const std::optional<json::object>& n, std::string_view type, std::int64_t id,
                        std::string_view change_type, std::int64_t seq)
{
    BOOST_TEST_REQUIRE(n.has_value(), "no notification within the deadline");
    BOOST_TEST(keys(*n) == notification_members(), boost::test_tools::per_element());
    BOOST_TEST(n->at("type") == json::value("entity_updated"));
    BOOST_TEST(n->at("entity_type") == json::value(type));
    BOOST_TEST(n->at("entity_id") == json::value(id));
    BOOST_TEST(n->at("change_type") == json::value(change_type));
    BOOST_TEST(is_wire_timestamp(n->at("timestamp")));
    BOOST_TEST(n->at("version").is_int64());
    BOOST_TEST(n->at("seq") == json::value(seq));
}

BOOST_FIXTURE_TEST_SUITE(realtime_suite, two_threads)

BOOST_AUTO_TEST_CASE(notifications_carry_the_protocol_members_and_number_each_connection)
{
    auto c = http();
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open(), ws.status());

    auto created = c.send(http::verb::post, "/api/v1/products", R"({"name":"Espresso"})");
    BOOST_TEST_REQUIRE(created.status == 201u);
    const auto id = created.json().at("id").as_int64();
    // The write was notified before its response was sent: it is already on the wire.
    auto first = ws.next_json();
    check_notification(first, "product", id, "create", 1);
    BOOST_TEST(first->at("timestamp") == created.json().at("updated_at"));
    BOOST_TEST(first->at("version").as_int64() == static_cast<std::int64_t>(*store.high_water()));

    auto patched = c.send(http::verb::patch, "/api/v1/products/" + std::to_string(id), R"({"price_cents":9})");
    auto second = ws.next_json();
    check_notification(second, "product", id, "update", 2);
    BOOST_TEST(second->at("timestamp") == patched.json().at("updated_at"));
    BOOST_TEST(second->at("version").as_int64() > first->at("version").as_int64());

    // A PATCH that changes nothing commits nothing and notifies nothing.
    BOOST_TEST(c.send(http::verb::patch, "/api/v1/products/" + std::to_string(id), R"({"price_cents":9})").status == 200u);

    BOOST_TEST(c.send(http::verb::delete_, "/api/v1/products/" + std::to_string(id)).status == 204u);
    auto third = ws.next_json();
    check_notification(third, "product", id, "delete", 3);
    BOOST_TEST(third->at("version").as_int64() == second->at("version").as_int64() + 1);

    // The version matches what a pull reports.
    auto pull = c.get("/api/v1/sync/products");
    BOOST_TEST(pull.json().at("version") == third->at("version"));
    // A second connection counts from 1 again.
    ws_client other(port(), "/ws/sync/2?store_id=1&token=till-1");
    (void)create(c, "categories", R"({"name":"Cakes"})");
    BOOST_TEST(member(other.next_json(), "seq") == json::value(1));
    BOOST_TEST(member(ws.next_json(), "seq") == json::value(4));
}

BOOST_AUTO_TEST_CASE(store_scoped_write_notifies_only_that_store)
{
    auto c = http();
    ws_client a1(port(), "/ws/sync/a1?store_id=1&token=till-1");
    ws_client b1(port(), "/ws/sync/b1?store_id=1", {{"Authorization", "Bearer till-1"}});
    ws_client s2(port(), "/ws/sync/s2?store_id=2&token=till-2");
    ws_client admin(port(), "/ws/sync/console?token=admin-token"); // no store_id: every store
    ws_client admin1(port(), "/ws/sync/console1?store_id=1&token=admin-token"); // an admin watching store 1
    for (auto* w : {&a1, &b1, &s2, &admin, &admin1}) BOOST_TEST_REQUIRE(w->is_open());

    // A global write reaches everyone.
    const auto product = create(c, "products", R"({"name":"Espresso"})");
    for (auto* w : {&a1, &b1, &s2, &admin, &admin1}) check_notification(w->next_json(), "product", product, "create", 1);

    // A store-1 write reaches store 1 and the all-stores console ...
    const auto table = create(c, "tables", R"({"name":"T1","store_id":1})");
    for (auto* w : {&a1, &b1, &admin, &admin1}) check_notification(w->next_json(), "table", table, "create", 2);
    // ... and not store 2: the next thing store 2 gets is a later global write.
    const auto category = create(c, "categories", R"({"name":"Cakes"})");
    check_notification(s2.next_json(), "category", category, "create", 2);
    for (auto* w : {&a1, &b1, &admin, &admin1}) check_notification(w->next_json(), "category", category, "create", 3);

    // And the other way round, with a store-scoped setting.
    const auto setting = create(c, "settings", R"({"key":"k","value":"v","store_id":2})");
    check_notification(s2.next_json(), "setting", setting, "create", 3);
    check_notification(admin.next_json(), "setting", setting, "create", 4);
    const auto global_setting = create(c, "settings", R"({"key":"k","value":"v"})");
    for (auto* w : {&a1, &b1, &admin1}) check_notification(w->next_json(), "setting", global_setting, "create", 4);
    check_notification(s2.next_json(), "setting", global_setting, "create", 4);
    check_notification(admin.next_json(), "setting", global_setting, "create", 5);
    for (auto* w : {&a1, &b1, &s2, &admin, &admin1}) BOOST_TEST(w->quiet_for(50ms));
}

BOOST_AUTO_TEST_CASE(client_ping_gets_a_pong)
{
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST_REQUIRE(ws.send(R"({"type":"ping"})"));
        auto pong = ws.next_json();
        BOOST_TEST_REQUIRE(pong.has_value());
        BOOST_TEST(pong->at("type") == json::value("pong"));
        BOOST_TEST(is_wire_timestamp(pong->at("server_time")));
    }
    // Members a newer client adds are fine.
    BOOST_TEST_REQUIRE(ws.send(R"({"type":"ping","id":7,"extra":{"a":[1,2]}})"));
    BOOST_TEST(member(ws.next_json(), "type") == json::value("pong"));
}

BOOST_AUTO_TEST_CASE(an_unreadable_message_gets_an_error_and_the_connection_stays_up)
{
    auto c = http();
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());
    for (std::string bad : {"hello", "", "[1,2]", R"({"type":5})", R"({"no_type":true})", R"({"type":"ping")", "null"}) {
        BOOST_TEST_REQUIRE(ws.send(bad));
        auto e = ws.next_json();
        BOOST_TEST_REQUIRE(e.has_value(), "no answer to '" << bad << "'");
        BOOST_TEST(e->at("type") == json::value("error"), bad);
        BOOST_TEST(keys(e->at("error")) == (std::set<std::string>{"code", "message"}), boost::test_tools::per_element());
    }
    // An unknown type is ignored: the next thing we get is the pong.
    BOOST_TEST_REQUIRE(ws.send(R"({"type":"subscribe","topics":["x"]})"));
    BOOST_TEST_REQUIRE(ws.send(R"({"type":"ping"})"));
    BOOST_TEST(member(ws.next_json(), "type") == json::value("pong"));
    // Still subscribed: the next write arrives, numbered 1 (replies are not numbered).
    const auto id = create(c, "products", R"({"name":"Espresso"})");
    check_notification(ws.next_json(), "product", id, "create", 1);
    BOOST_TEST(ws.is_open());
    BOOST_TEST(ws.close());
    BOOST_TEST(ws.wait_closed().value_or(-1) == 1000);
}

BOOST_AUTO_TEST_CASE(sse_gets_the_same_notifications_within_store_walls)
{
    auto c = http();
    sse_client s1(port(), "/api/v1/sync/events?cash_register_id=1&store_id=1&token=till-1");
    sse_client s2(port(), "/api/v1/sync/events?cash_register_id=2&store_id=2", till_2);
    sse_client all(port(), "/api/v1/sync/events?token=admin-token");
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    for (auto* s : {&s1, &s2, &all}) {
        BOOST_TEST_REQUIRE(s->status() == 200u);
        BOOST_TEST(s->content_type().starts_with("text/event-stream"));
    }
    const auto table = create(c, "tables", R"({"name":"T1","store_id":1})");
    const auto product = create(c, "products", R"({"name":"Espresso"})");

    auto data_of = [](const std::optional<sse_event>& e) -> std::optional<json::object> {
        if (!e) return std::nullopt;
        BOOST_TEST(e->event == "entity_updated");
        return json::parse(e->data).as_object();
    };
    auto w1 = ws.next_json();
    auto e1 = s1.next();
    check_notification(data_of(e1), "table", table, "create", 1);
    BOOST_CHECK(data_of(e1) == w1); // the same notification
    check_notification(data_of(s1.next()), "product", product, "create", 2);
    check_notification(data_of(all.next()), "table", table, "create", 1);
    check_notification(data_of(all.next()), "product", product, "create", 2);
    // Store 2: the table never came, the product is its first event.
    check_notification(data_of(s2.next()), "product", product, "create", 1);
    BOOST_TEST(stats().event_streams == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

// Heartbeats need their own options.
BOOST_AUTO_TEST_SUITE(heartbeat_suite)

BOOST_AUTO_TEST_CASE(server_pings_at_the_heartbeat_interval_and_a_polite_client_stays)
{
    server_fixture f([](auto& o) { o.heartbeat_interval = 50ms; });
    ws_client ws(f.port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());
    const auto t0 = steady::now();
    BOOST_TEST_REQUIRE(wait_until([&] { return ws.pings() >= 2; }, 2s), "pings: " << ws.pings());
    BOOST_TEST((steady::now() - t0 < 1s));
    // Long past two intervals: Beast answered every ping, so it is alive.
    BOOST_TEST_REQUIRE(wait_until([&] { return ws.pings() >= 8; }, 3s), "pings: " << ws.pings());
    BOOST_TEST(ws.is_open());
    const auto s = f.stats();
    BOOST_TEST(s.closed_dead == 0u);
    BOOST_TEST(s.websocket_connections == 1u);
    auto c = f.http();
    const auto id = create(c, "products", R"({"name":"Espresso"})");
    auto n = ws.next_json();
    BOOST_TEST_REQUIRE(n.has_value());
    BOOST_TEST(n->at("entity_id") == json::value(id));

    // SSE gets comment lines as heartbeats.
    sse_client sse(f.port(), "/api/v1/sync/events?token=admin-token");
    BOOST_TEST_REQUIRE(sse.status() == 200u);
    BOOST_TEST(wait_until([&] {
        (void)sse.next(20ms);
        return sse.comments() >= 2;
    }, 2s));
}

BOOST_AUTO_TEST_CASE(a_client_that_never_answers_pings_is_closed_as_dead)
{
    server_fixture f([](auto& o) { o.heartbeat_interval = 50ms; });
    raw_ws_client silent(f.port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(silent.upgraded(), silent.status());
    ws_client polite(f.port(), "/ws/sync/2?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(f.wait_for_stats([](const auto& s) { return s.closed_dead == 1; }, 3s),
                       "closed_dead = " << f.stats().closed_dead);
    // What the silent client saw: pings (unmasked, empty), then the end.
    int pings = 0;
    while (auto frame = silent.read_frame(2s)) {
        BOOST_TEST(!frame->masked);
        if (frame->opcode == raw_ws_client::op_ping) ++pings;
    }
    BOOST_TEST(pings >= 1);
    BOOST_TEST(silent.raw().peer_closed());
    BOOST_TEST(polite.is_open());
    BOOST_TEST(f.stats().websocket_connections == 1u);
    BOOST_TEST(f.stats().closed_dead == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_realtime_test
