// WebSocket permessage-deflate (RFC 7692) on a server that enables it: the
// negotiation, compressed notifications read by hand (RSV1, raw deflate with
// the flush tail removed) and by Beast's own client, compressed client
// messages inflated, and the size threshold. Off by default: an offer to a
// server that did not enable it is ignored.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <string>

namespace integration_permessage_deflate_test {

using namespace it;

constexpr std::string_view target = "/ws/sync/1?store_id=1&token=till-1";

/// Inflates one message payload as RFC 7692 says: append 00 00 FF FF, raw inflate.
std::string inflate_message(std::string payload)
{
    payload.append("\0\0\xff\xff", 4);
    z_stream z{};
    BOOST_REQUIRE(inflateInit2(&z, -15) == Z_OK);
    std::string out(64 * 1024, '\0');
    z.next_in = reinterpret_cast<Bytef*>(payload.data());
    z.avail_in = static_cast<uInt>(payload.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    inflateEnd(&z);
    BOOST_TEST((rc == Z_OK || rc == Z_BUF_ERROR), "inflate: " << rc);
    return out;
}

/// Deflates a client message without context takeover, tail removed.
std::string deflate_message(std::string_view text)
{
    z_stream z{};
    BOOST_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(text.size() + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out.substr(0, out.size() - 4);
}

/// The next frame that is not a ping.
std::optional<ws_frame> next_message(raw_ws_client& c)
{
    for (;;) {
        auto f = c.read_frame();
        if (!f || f->opcode != raw_ws_client::op_ping) return f;
    }
}

struct deflating_server : server_fixture {
    deflating_server()
        : server_fixture([](auto& o) {
              o.permessage_deflate.enabled = true;
              o.permessage_deflate.min_bytes = 0; // every notification, to see it
          })
    {
    }
};

BOOST_FIXTURE_TEST_SUITE(permessage_deflate_suite, deflating_server)

BOOST_AUTO_TEST_CASE(an_offer_is_accepted_and_notifications_come_compressed)
{
    raw_ws_client c(port(), std::string(target), 0, "permessage-deflate; client_max_window_bits");
    BOOST_TEST_REQUIRE(c.upgraded());
    BOOST_TEST(c.head().find("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
                   != std::string::npos,
               c.head());
    auto h = http();
    BOOST_TEST_REQUIRE(h.send(http::verb::post, "/api/v1/products", R"({"name":"Deflated"})").status == 201u);
    const auto f = next_message(c);
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST(f->rsv1);
    BOOST_TEST(f->opcode == raw_ws_client::op_text);
    const auto text = inflate_message(f->payload);
    const auto msg = boost::json::parse(text).as_object();
    BOOST_TEST(msg.at("type").as_string() == "entity_updated");
    BOOST_TEST(msg.at("seq").as_int64() == 1);
    BOOST_TEST(msg.at("entity_type").as_string() == "product");
}

BOOST_AUTO_TEST_CASE(a_compressed_client_message_is_inflated_and_answered)
{
    raw_ws_client c(port(), std::string(target), 0, "permessage-deflate; client_no_context_takeover");
    BOOST_TEST_REQUIRE(c.upgraded());
    BOOST_TEST(c.head().find("client_no_context_takeover") != std::string::npos, c.head());
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_text, deflate_message(R"({"type":"ping"})"), true, true, true));
    const auto f = next_message(c);
    BOOST_TEST_REQUIRE(f.has_value());
    const auto text = f->rsv1 ? inflate_message(f->payload) : f->payload;
    BOOST_TEST(text.find(R"("type":"pong")") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(garbage_in_a_compressed_message_closes_with_1007)
{
    raw_ws_client c(port(), std::string(target), 0, "permessage-deflate");
    BOOST_TEST_REQUIRE(c.upgraded());
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_text, "\xff\xff\xff\xff", true, true, true));
    BOOST_TEST(c.read_close_code().value_or(-1) == 1007);
}

BOOST_AUTO_TEST_CASE(rsv1_on_a_control_frame_is_still_a_protocol_error)
{
    raw_ws_client c(port(), std::string(target), 0, "permessage-deflate");
    BOOST_TEST_REQUIRE(c.upgraded());
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_ping, "x", true, true, true));
    BOOST_TEST(c.read_close_code().value_or(-1) == 1002);
}

BOOST_AUTO_TEST_CASE(unacceptable_offers_are_declined_and_the_connection_goes_on_plain)
{
    for (std::string offer : {"permessage-deflate; server_max_window_bits=8", "permessage-deflate; mystery",
                              "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                              "x-webkit-deflate-frame"}) {
        raw_ws_client c(port(), std::string(target), 0, offer);
        BOOST_TEST_REQUIRE(c.upgraded(), offer);
        BOOST_TEST(c.head().find("Sec-WebSocket-Extensions") == std::string::npos, offer << ": " << c.head());
    }
    // The first acceptable offer of several wins.
    raw_ws_client c(port(), std::string(target), 0, "permessage-deflate; mystery, permessage-deflate; server_max_window_bits=10");
    BOOST_TEST(c.head().find("permessage-deflate; server_no_context_takeover; server_max_window_bits=10")
                   != std::string::npos,
               c.head());
}

BOOST_AUTO_TEST_CASE(beasts_own_client_reads_and_writes_compressed_messages)
{
    ws_client ws(port(), std::string(target), {}, true);
    BOOST_TEST_REQUIRE(ws.is_open());
    auto h = http();
    BOOST_TEST_REQUIRE(h.send(http::verb::post, "/api/v1/products", R"({"name":"For Beast"})").status == 201u);
    const auto msg = ws.next();
    BOOST_TEST_REQUIRE(msg.has_value());
    BOOST_TEST(msg->find(R"("entity_type":"product")") != std::string::npos, *msg);
    // Beast compresses its messages with context takeover: two pings in a row.
    for (int i = 0; i < 2; ++i) {
        BOOST_TEST_REQUIRE(ws.send(R"({"type":"ping"})"));
        const auto pong = ws.next();
        BOOST_TEST_REQUIRE(pong.has_value());
        BOOST_TEST(pong->find(R"("type":"pong")") != std::string::npos, *pong);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_small_notification_stays_plain_under_the_threshold)
{
    server_fixture server([](auto& o) {
        o.permessage_deflate.enabled = true;
        o.permessage_deflate.min_bytes = 4096;
    });
    raw_ws_client c(server.port(), std::string(target), 0, "permessage-deflate");
    BOOST_TEST_REQUIRE(c.head().find("Sec-WebSocket-Extensions: permessage-deflate") != std::string::npos);
    auto h = server.http();
    BOOST_TEST_REQUIRE(h.send(http::verb::post, "/api/v1/products", R"({"name":"Small"})").status == 201u);
    const auto f = next_message(c);
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST(!f->rsv1);
    BOOST_TEST(f->payload.find("entity_updated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_server_that_did_not_enable_it_ignores_the_offer)
{
    server_fixture server;
    raw_ws_client c(server.port(), std::string(target), 0, "permessage-deflate");
    BOOST_TEST_REQUIRE(c.upgraded());
    BOOST_TEST(c.head().find("Sec-WebSocket-Extensions") == std::string::npos, c.head());
    // RSV1 without the extension is a protocol error, as before.
    BOOST_TEST_REQUIRE(c.send_frame(raw_ws_client::op_text, deflate_message(R"({"type":"ping"})"), true, true, true));
    BOOST_TEST(c.read_close_code().value_or(-1) == 1002);
}

} // namespace integration_permessage_deflate_test
