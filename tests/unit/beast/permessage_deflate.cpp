#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/beast/detail/permessage_deflate.hpp>

#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <string>

namespace unit_beast_permessage_deflate_test {

using namespace incsync::beast::detail;

std::string response_to(std::string_view offers)
{
    auto a = negotiate_permessage_deflate(offers);
    return a ? a->response : "declined";
}

// A client's compressor: one zlib stream, reset per message or not.
struct client_deflater {
    z_stream z{};
    client_deflater() { BOOST_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK); }
    ~client_deflater() { deflateEnd(&z); }
    std::string message(std::string_view text, int flush = Z_SYNC_FLUSH)
    {
        std::string out(text.size() + 64, '\0');
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
        z.avail_in = static_cast<uInt>(text.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        deflate(&z, flush);
        out.resize(out.size() - z.avail_out);
        if (flush == Z_SYNC_FLUSH) out.resize(out.size() - 4); // the tail RFC 7692 removes
        return out;
    }
};

BOOST_AUTO_TEST_SUITE(permessage_deflate_suite)

BOOST_AUTO_TEST_CASE(offers_are_accepted_with_what_the_server_does_and_declined_when_unclear)
{
    BOOST_TEST(response_to("permessage-deflate") == "permessage-deflate; server_no_context_takeover");
    BOOST_TEST(response_to("permessage-deflate; client_max_window_bits")
               == "permessage-deflate; server_no_context_takeover");
    BOOST_TEST(response_to(" permessage-deflate ; client_no_context_takeover ; server_no_context_takeover")
               == "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    BOOST_TEST(response_to("permessage-deflate; server_max_window_bits=12")
               == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12");
    BOOST_TEST(response_to("permessage-deflate; server_max_window_bits=\"10\"")
               == "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");
    for (std::string_view bad : {"", "deflate-frame", "permessage-deflate; x=1", "permessage-deflate; server_max_window_bits",
                                 "permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=16",
                                 "permessage-deflate; server_max_window_bits=09", "permessage-deflate; client_max_window_bits=7",
                                 "permessage-deflate; server_no_context_takeover=1", "permessage-deflate;;",
                                 "permessage-deflate; server_no_context_takeover; server_no_context_takeover"})
        BOOST_TEST(response_to(bad) == "declined", bad);
    // The first acceptable offer wins; other extensions are skipped.
    BOOST_TEST(response_to("x-foo, permessage-deflate; bad, permessage-deflate; client_no_context_takeover")
               == "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

BOOST_AUTO_TEST_CASE(a_message_deflates_and_inflates_back)
{
    auto& d = message_deflater::thread_local_for(15, 6);
    const std::string prefix = R"({"seq":17,)";
    std::string body = R"("type":"entity_updated","entity_type":"product","entity_id":123,"change_type":"update"})";
    std::string out;
    BOOST_TEST_REQUIRE(d.compress(prefix, body, out));
    BOOST_TEST(out.size() < prefix.size() + body.size());
    message_inflater in;
    std::string text;
    BOOST_TEST((in.inflate_message(out, text, 4096, true) == message_inflater::outcome::ok));
    BOOST_TEST(text == prefix + body);
    // No context takeover: compressing again gives the same bytes.
    std::string again;
    BOOST_TEST_REQUIRE(d.compress(prefix, body, again));
    BOOST_TEST(again == out);
    BOOST_TEST(&message_deflater::thread_local_for(15, 6) == &d); // one per thread and setting
}

BOOST_AUTO_TEST_CASE(a_client_with_context_takeover_is_followed_across_messages)
{
    client_deflater client;
    message_inflater in;
    std::string text;
    const std::string ping = R"({"type":"ping"})";
    for (int i = 0; i < 3; ++i) {
        const auto m = client.message(ping); // later ones refer back to the first
        BOOST_TEST((in.inflate_message(m, text, 4096, false) == message_inflater::outcome::ok));
        BOOST_TEST(text == ping);
    }
}

BOOST_AUTO_TEST_CASE(a_final_block_ends_a_message_too)
{
    client_deflater client;
    message_inflater in;
    std::string text;
    const auto m = client.message(R"({"type":"ping"})", Z_FINISH);
    BOOST_TEST((in.inflate_message(m, text, 4096, false) == message_inflater::outcome::ok));
    BOOST_TEST(text == R"({"type":"ping"})");
}

BOOST_AUTO_TEST_CASE(too_big_and_corrupt_messages_are_told_apart)
{
    client_deflater client;
    const auto big = client.message(std::string(10000, 'a'));
    message_inflater in;
    std::string text;
    BOOST_TEST((in.inflate_message(big, text, 4096, true) == message_inflater::outcome::too_big));
    message_inflater fresh;
    BOOST_TEST((fresh.inflate_message("\xff\xff\xff\xff", text, 4096, true) == message_inflater::outcome::corrupt));
    message_inflater exact;
    client_deflater c2;
    BOOST_TEST((exact.inflate_message(c2.message(std::string(4096, 'b')), text, 4096, true) == message_inflater::outcome::ok));
    BOOST_TEST(text.size() == 4096u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_beast_permessage_deflate_test
