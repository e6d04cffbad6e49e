// WebSocket protocol errors (RFC 6455) from hand-made frames, and refused upgrades.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace integration_websocket_protocol_test {

using namespace it;
using namespace std::string_literals;

constexpr std::string_view ws_target = "/ws/sync/1?store_id=1&token=till-1";

struct ws_server : server_fixture {
    raw_ws_client connect()
    {
        raw_ws_client c(port(), std::string(ws_target));
        BOOST_TEST_REQUIRE(c.upgraded(), "upgrade answered " << c.status());
        return c;
    }
};

std::string upgrade_request(std::string_view target, std::string_view version = "13",
                            std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==")
{
    std::string r = "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    if (!key.empty()) r += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
    if (!version.empty()) r += "Sec-WebSocket-Version: " + std::string(version) + "\r\n";
    return r + "\r\n";
}

BOOST_FIXTURE_TEST_SUITE(websocket_protocol_suite, ws_server)

BOOST_AUTO_TEST_CASE(an_unmasked_client_frame_is_closed_with_1002)
{
    auto c = connect();
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_text, R"({"type":"ping"})", true, false));
    BOOST_TEST(c.read_close_code().value_or(-1) == 1002);
}

BOOST_AUTO_TEST_CASE(a_binary_message_is_closed_with_1003)
{
    auto c = connect();
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_binary, "\x01\x02\x03"s));
    BOOST_TEST(c.read_close_code().value_or(-1) == 1003);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_text_is_closed_with_1007)
{
    for (std::string bad : {"\xff"s, "{\"type\":\"\xc0\xaf\"}"s, "\xed\xa0\x80"s, "abc\xe2\x82"s}) {
        auto c = connect();
        BOOST_TEST_REQUIRE(c.send_text(bad));
        BOOST_TEST(c.read_close_code().value_or(-1) == 1007);
    }
}

BOOST_AUTO_TEST_CASE(a_message_over_the_limit_is_closed_with_1009)
{
    const auto limit = options().max_client_message;
    {
        auto c = connect();
        BOOST_TEST_REQUIRE(c.send_text(std::string(limit + 1, ' ')));
        BOOST_TEST(c.read_close_code().value_or(-1) == 1009);
    }
    { // the same size in two fragments
        auto c = connect();
        BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_text, std::string(limit / 2 + 1, ' '), false));
        BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_continuation, std::string(limit / 2 + 1, ' '), true));
        BOOST_TEST(c.read_close_code().value_or(-1) == 1009);
    }
    { // exactly at the limit: fine (a JSON object padded with spaces)
        auto c = connect();
        std::string ping = R"({"type":"ping"})";
        ping.append(limit - ping.size(), ' ');
        BOOST_TEST_REQUIRE(c.send_text(ping));
        auto f = c.read_frame();
        BOOST_TEST_REQUIRE(f.has_value());
        BOOST_TEST(f->opcode == raw_ws_client::op_text);
        BOOST_TEST(json::parse(f->payload).at("type") == json::value("pong"));
    }
}

BOOST_AUTO_TEST_CASE(a_fragmented_ping_message_gets_a_pong)
{
    auto c = connect();
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_text, R"({"type":)", false));
    // A control frame may come between the fragments; it is answered at once.
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_ping, "hb"));
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_continuation, R"("pi)", false));
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_continuation, R"(ng"})", true));
    auto pong = c.read_frame();
    BOOST_TEST_REQUIRE(pong.has_value());
    BOOST_TEST(pong->opcode == raw_ws_client::op_pong);
    BOOST_TEST(pong->payload == "hb");
    BOOST_TEST(!pong->masked);
    auto text = c.read_frame();
    BOOST_TEST_REQUIRE(text.has_value());
    BOOST_TEST(text->opcode == raw_ws_client::op_text);
    BOOST_TEST(text->fin);
    BOOST_TEST(json::parse(text->payload).at("type") == json::value("pong"));
}

BOOST_AUTO_TEST_CASE(other_framing_errors_are_closed_with_1002)
{
    const std::vector<std::pair<std::string, std::function<void(raw_ws_client&)>>> cases{
        {"a continuation without a message", [](auto& c) { c.send_frame(raw_ws_client::op_continuation, "x"); }},
        {"a new message inside a fragmented one",
         [](auto& c) {
             c.send_frame(raw_ws_client::op_text, "{", false);
             c.send_frame(raw_ws_client::op_text, "}", true);
         }},
        {"a fragmented ping", [](auto& c) { c.send_frame(raw_ws_client::op_ping, "x", false); }},
        {"a ping over 125 bytes", [](auto& c) { c.send_frame(raw_ws_client::op_ping, std::string(126, 'x')); }},
        {"a reserved opcode", [](auto& c) { c.send_frame(3, "x"); }},
        {"a reserved bit", [](auto& c) { c.raw().write("\xc1\x80\x00\x00\x00\x00"s); }},
        {"a one-byte close payload", [](auto& c) { c.send_frame(raw_ws_client::op_close, "\x03"s); }},
        {"a forbidden close code", [](auto& c) { c.send_frame(raw_ws_client::op_close, "\x03\xed"s); }}, // 1005
    };
    for (const auto& [what, send] : cases) {
        BOOST_TEST_CONTEXT(what)
        {
            auto c = connect();
            send(c);
            BOOST_TEST(c.read_close_code().value_or(-1) == 1002);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_client_close_is_echoed_and_the_connection_ends)
{
    auto c = connect();
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_close, "\x03\xe8" "bye"s)); // 1000
    BOOST_TEST(c.read_close_code().value_or(-1) == 1000);
    BOOST_TEST(c.raw().read_until_close());
    BOOST_TEST(wait_for_stats([](const auto& s) { return s.websocket_connections == 0; }));
    // And with Beast on the other end.
    ws_client polite(port(), std::string(ws_target));
    BOOST_TEST_REQUIRE(polite.is_open());
    BOOST_TEST(polite.close());
    BOOST_TEST(polite.wait_closed().value_or(-1) == 1000);
}

BOOST_AUTO_TEST_CASE(bad_upgrades_are_refused_with_json_errors)
{
    auto v8 = raw_exchange(port(), upgrade_request(ws_target, "8"));
    BOOST_TEST(v8.status == 426u, v8.failure << v8.body());
    BOOST_TEST(v8.is_error(), v8.body());
    BOOST_TEST(v8.header("Sec-WebSocket-Version") == "13");

    auto no_version = raw_exchange(port(), upgrade_request(ws_target, ""));
    BOOST_TEST(no_version.status == 426u, no_version.failure << no_version.body());

    for (std::string key : {"", "short", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===", "!!!!!!!!!!!!!!!!!!!!!!=="}) {
        auto r = raw_exchange(port(), upgrade_request(ws_target, "13", key));
        BOOST_TEST(r.status == 400u, "key '" << key << "': " << r.status << ' ' << r.failure);
        BOOST_TEST(r.is_error("bad_request"), r.body());
    }

    for (std::string target : {std::string("/ws/sync/"), std::string("/ws/sync/?store_id=1&token=till-1"), std::string("/ws/sync/a/b?token=till-1"),
                               "/ws/sync/" + std::string(200, 'x') + "?token=till-1"}) {
        auto r = raw_exchange(port(), upgrade_request(target));
        BOOST_TEST(r.status == 404u, target << ": " << r.status);
        BOOST_TEST(r.is_error("not_found"), r.body());
    }
    // A plain GET on a WebSocket URL.
    auto plain = raw_exchange(port(), "GET /ws/sync/1?token=till-1 HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(plain.status == 400u);
    BOOST_TEST(plain.is_error("bad_request"));
    // A non-integer store_id.
    auto store = raw_exchange(port(), upgrade_request("/ws/sync/1?store_id=abc&token=admin-token"));
    BOOST_TEST(store.status == 400u);
    BOOST_TEST(store.is_error("bad_request"));
    BOOST_TEST(stats().websocket_connections == 0u);
}

BOOST_AUTO_TEST_CASE(bytes_sent_right_after_the_upgrade_request_are_not_lost)
{
    // A client may pipeline its first frame behind the upgrade request.
    raw_client raw(port());
    std::string req = upgrade_request(ws_target);
    const unsigned char key[4] = {1, 2, 3, 4};
    const std::string text = R"({"type":"ping"})";
    req.push_back(static_cast<char>(0x81));
    req.push_back(static_cast<char>(0x80 | text.size()));
    req.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < text.size(); ++i) req.push_back(static_cast<char>(text[i] ^ key[i & 3]));
    BOOST_TEST_REQUIRE(raw.write(req));
    BOOST_TEST_REQUIRE(raw.read_until("pong"), raw.received());
    BOOST_TEST(raw.received().starts_with("HTTP/1.1 101 "));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_websocket_protocol_test
