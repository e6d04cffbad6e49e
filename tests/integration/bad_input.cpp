// Malformed and oversized input (PROTOCOL.md section 6) over raw sockets:
// every error is JSON where an HTTP answer is possible, the server keeps
// serving, and no stored data changes.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

namespace integration_bad_input_test {

using namespace it;
using namespace std::string_literals;

constexpr std::size_t body_limit = 4096;

struct small_limits : server_fixture {
    small_limits() : server_fixture([](auto& o) { o.api.max_body_bytes = body_limit; })
    {
        seed(6);
        before = snapshot();
    }

    ~small_limits()
    {
        // Whatever the test sent, the server still answers and nothing changed.
        auto c = http();
        auto r = c.get("/api/v1/sync/products");
        BOOST_TEST(r.status == 200u, "no normal answer afterwards: " << r.failure);
        BOOST_TEST(snapshot() == before);
    }

    std::string before;
};

const std::string auth = "Authorization: Bearer admin-token\r\n";

std::string post(std::string_view target, std::string_view body, std::string_view extra_headers = {})
{
    return "POST " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\n"
         + std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"
         + std::string(body);
}

void expect_error(const http_reply& r, unsigned status, std::string_view code)
{
    BOOST_TEST(r.status == status, r.status << ' ' << r.failure << r.body());
    BOOST_TEST(r.is_error(code), r.body());
    BOOST_TEST(r.header("Content-Type") == "application/json");
}

BOOST_FIXTURE_TEST_SUITE(bad_input_suite, small_limits)

BOOST_AUTO_TEST_CASE(a_nul_byte_in_the_target_is_a_bad_request)
{
    expect_error(raw_exchange(port(), "GET /api/v1/sync/products\0x HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"s, 5s),
                 400, "bad_request");
    // Escaped, in the query: decoded, then refused.
    auto c = http();
    expect_error(c.get("/api/v1/sync/products?since=%00"), 400, "bad_request");
    expect_error(c.get("/api/v1/sync/incremental?entity_type=product%00"), 400, "bad_request");
}

BOOST_AUTO_TEST_CASE(garbage_request_lines_are_bad_requests)
{
    for (std::string garbage : {"HELLO\r\n\r\n"s, "GET\r\n\r\n"s, "GET / HTTP/9.9\r\n\r\n"s, "GET  / HTTP/1.1\r\n\r\n"s,
                                "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"s, // a TLS ClientHello
                                "GET / HTTP/1.1\r\nHost x\r\n\r\n"s, "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"s,
                                "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"s,
                                "POST /api/v1/products HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"s}) {
        BOOST_TEST_CONTEXT(garbage) { expect_error(raw_exchange(port(), garbage, 5s), 400, "bad_request"); }
    }
}

BOOST_AUTO_TEST_CASE(a_header_section_over_the_limit_is_431)
{
    const std::string big(10'000, 'a');
    expect_error(raw_exchange(port(), "GET /api/v1/sync/products HTTP/1.1\r\nHost: x\r\n" + auth + "X-Big: " + big + "\r\n\r\n"),
                 431, "header_too_large");
    std::string many = "GET /api/v1/sync/products HTTP/1.1\r\nHost: x\r\n" + auth;
    for (int i = 0; i < 500; ++i) many += "X-H" + std::to_string(i) + ": vvvvvvvvvvvvvvvvvvvv\r\n";
    expect_error(raw_exchange(port(), many + "\r\n"), 431, "header_too_large");
    expect_error(raw_exchange(port(), "GET /api/v1/sync/products?" + big + " HTTP/1.1\r\nHost: x\r\n\r\n"), 431,
                 "header_too_large");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_413_before_it_is_sent)
{
    // Announced by Content-Length: refused on the header, the body never sent.
    raw_client c(port());
    BOOST_TEST_REQUIRE(c.write("POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                               + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"));
    BOOST_TEST(c.read_until_close());
    auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u, c.received());
    BOOST_TEST(responses[0].result_int() == 413u);
    BOOST_TEST(is_error_body(responses[0].body(), "payload_too_large"), responses[0].body());
    // Just over the limit, sent in full.
    const std::string body = R"({"name":")" + std::string(body_limit, 'x') + R"("})";
    expect_error(raw_exchange(port(), post("/api/v1/products", body)), 413, "payload_too_large");
}

BOOST_AUTO_TEST_CASE(a_chunked_body_over_the_limit_is_413)
{
    std::string req = "POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) req += "7d0\r\n" + std::string(2000, ' ') + "\r\n"; // 3 x 2000 bytes
    req += "0\r\n\r\n";
    expect_error(raw_exchange(port(), req), 413, "payload_too_large");
}

BOOST_AUTO_TEST_CASE(a_chunked_body_within_the_limit_is_read)
{
    std::string req = "PATCH /api/v1/products/1 HTTP/1.1\r\nHost: x\r\n" + auth
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\n{\"nam\r\n" + "5\r\ne\":5}\r\n" + "0\r\n\r\n";
    raw_client c(port());
    BOOST_TEST_REQUIRE(c.write(req));
    BOOST_TEST_REQUIRE(c.read_until("}}"));
    auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u, c.received());
    // {"name":5} arrived whole: a wrong type, not a framing error.
    BOOST_TEST(responses[0].result_int() == 400u);
    BOOST_TEST(is_error_body(responses[0].body(), "bad_request"));
    BOOST_TEST(responses[0].body().find("name") != std::string::npos, responses[0].body());
    BOOST_TEST(!c.peer_closed()); // an ordinary 400 keeps the connection
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered_before_the_body)
{
    raw_client c(port());
    const std::string body = R"({"name":5})"; // read in full, then refused for its content
    BOOST_TEST_REQUIRE(c.write("POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                               + "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
                               + std::to_string(body.size()) + "\r\n\r\n"));
    BOOST_TEST_REQUIRE(c.read_until("\r\n\r\n"), c.received());
    BOOST_TEST(c.received().starts_with("HTTP/1.1 100 Continue\r\n"), c.received());
    c.received().clear();
    BOOST_TEST_REQUIRE(c.write(body));
    BOOST_TEST_REQUIRE(c.read_until("}}"), c.received());
    auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u, c.received());
    BOOST_TEST(responses[0].result_int() == 400u, responses[0].body());
    BOOST_TEST(is_error_body(responses[0].body(), "bad_request"), responses[0].body());
    BOOST_TEST(responses[0].body().find("name") != std::string::npos, responses[0].body());

    // Too large: 413 at once, no 100 Continue.
    raw_client big(port());
    BOOST_TEST_REQUIRE(big.write("POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                                 + "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n"));
    BOOST_TEST(big.read_until_close());
    BOOST_TEST(big.received().starts_with("HTTP/1.1 413 "), big.received());
    auto refused = parse_responses(big.received());
    BOOST_TEST_REQUIRE(refused.size() == 1u);
    BOOST_TEST(is_error_body(refused[0].body(), "payload_too_large"));
}

BOOST_AUTO_TEST_CASE(bodies_that_are_not_clean_json_are_bad_requests)
{
    const std::vector<std::pair<std::string, std::string>> bodies{
        {"a raw NUL byte in a string", "{\"name\":\"a\0b\"}"s},
        {"a NUL byte after the object", "{\"name\":\"ab\"}\0"s},
        {"deeply nested arrays", std::string(2000, '[') + std::string(2000, ']')},
        {"deeply nested objects in a member", [] {
             std::string s = R"({"name":"x","sku":)";
             for (int i = 0; i < 500; ++i) s += R"({"a":)";
             s += "1";
             s += std::string(500, '}');
             return s + "}";
         }()},
        {"a huge integer", R"({"name":"x","price_cents":99999999999999999999999})"},
        {"2^63", R"({"name":"x","price_cents":9223372036854775808})"},
        {"a huge exponent", R"({"name":"x","price_cents":1e400})"},
        {"invalid UTF-8 in a string", "{\"name\":\"\xff\xfe\"}"s},
        {"a lone surrogate escape", R"({"name":"\ud800"})"},
        {"overlong UTF-8", "{\"name\":\"\xc0\xaf\"}"s},
        {"a UTF-8 surrogate", "{\"name\":\"\xed\xa0\x80\"}"s},
        {"a raw control character", "{\"name\":\"a\x01b\"}"s},
        {"a truncated escape", R"({"name":"\u12"})"},
    };
    auto c = http();
    for (const auto& [what, body] : bodies) {
        BOOST_TEST_CONTEXT(what)
        {
            for (auto [method, target] : {std::pair{http::verb::post, "/api/v1/products"},
                                          std::pair{http::verb::patch, "/api/v1/products/1"},
                                          std::pair{http::verb::put, "/api/v1/products/1"}}) {
                auto r = c.send(method, target, body);
                expect_error(r, 400, "bad_request");
            }
        }
    }
    // Over raw sockets as well: the bytes reach the server exactly as written.
    expect_error(raw_exchange(port(), post("/api/v1/products", "{\"name\":\"a\0b\"}"s)), 400, "bad_request");
    expect_error(raw_exchange(port(), post("/api/v1/products", "{\"name\":\"\xff\"}"s)), 400, "bad_request");
}

BOOST_AUTO_TEST_CASE(a_request_cut_off_midway_changes_nothing)
{
    {
        raw_client c(port());
        BOOST_TEST_REQUIRE(c.write("POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                                   + "Content-Length: 50\r\n\r\n{\"name\":\"half"));
    } // closed with the body unfinished
    {
        raw_client c(port());
        BOOST_TEST_REQUIRE(c.write("POST /api/v1/produ"));
    }
    BOOST_TEST(wait_for_stats([](const auto& s) { return s.http_connections == 0; }));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_bad_input_test
