// Hostile clients (issue 7, DESIGN.md invariants 5 and 6): request smuggling,
// slow headers, one address hogging connections, tokens fishing in logs,
// error bodies fishing for internals. Store walls and token rules on every
// endpoint and stream are in auth.cpp.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>

namespace integration_security_test {

using namespace it;
using namespace std::string_literals;

const std::string auth = "Authorization: Bearer admin-token\r\n";

// ---- request smuggling ------------------------------------------------------

struct seeded : server_fixture {
    seeded()
    {
        seed(4);
        before = snapshot();
    }
    std::string before;
};

BOOST_FIXTURE_TEST_SUITE(smuggling_suite, seeded)

// Each request carries a second one (a DELETE) in what a proxy in front might
// take for its body, or the reverse. The server must answer the first with
// 400 and close: never read the rest as a request of its own.
BOOST_AUTO_TEST_CASE(conflicting_or_ambiguous_body_framing_is_refused_and_closes)
{
    const std::string smuggled = "DELETE /api/v1/products/1 HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n";
    const std::string body = "0\r\n\r\n" + smuggled;
    const std::string head = "POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\n";
    const auto length = std::to_string(body.size());
    const std::vector<std::string> attempts{
        // CL.TE and TE.CL: both framings at once, in either order.
        head + "Content-Length: " + length + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
        head + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + body,
        // Two lengths that disagree, and one list of them.
        head + "Content-Length: 5\r\nContent-Length: " + length + "\r\n\r\n" + body,
        head + "Content-Length: 5, " + length + "\r\n\r\n" + body,
        // A length a lenient parser reads as a number.
        head + "Content-Length: +" + length + "\r\n\r\n" + body,
        head + "Content-Length: 0x10\r\n\r\n" + body,
        // Whitespace before the colon, and a header folded onto two lines.
        head + "Content-Length : " + length + "\r\n\r\n" + body,
        head + "Transfer-Encoding:\r\n chunked\r\nContent-Length: " + length + "\r\n\r\n" + body,
        // Chunked, but not as the final coding.
        head + "Transfer-Encoding: chunked, identity\r\n\r\n" + body,
        head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + body,
        head + "Transfer-Encoding: identity\r\n\r\n" + body,
    };
    for (const auto& request : attempts) {
        BOOST_TEST_CONTEXT(request.substr(head.size(), 60))
        {
            raw_client c(port());
            BOOST_TEST_REQUIRE(c.write(request));
            BOOST_TEST(c.read_until_close(5s), "the connection stayed open");
            const auto responses = parse_responses(c.received());
            BOOST_TEST_REQUIRE(responses.size() == 1u, c.received());
            BOOST_TEST(responses[0].result_int() == 400u, c.received());
            BOOST_TEST(is_error_body(responses[0].body(), "bad_request"), responses[0].body());
        }
    }
    BOOST_TEST(snapshot() == before);
}

BOOST_AUTO_TEST_CASE(a_lone_chunked_body_is_read_to_its_end_and_no_further)
{
    // The honest form of the same request: one body, one answer, and the
    // bytes after it are the next request on the connection.
    const std::string request = "POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                              + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "11\r\n{\"name\":\"Honest\"}\r\n0\r\n\r\n"
                                "GET /api/v1/sync/products?limit=1 HTTP/1.1\r\nHost: x\r\n"
                              + auth + "Connection: close\r\n\r\n";
    raw_client c(port());
    BOOST_TEST_REQUIRE(c.write(request));
    BOOST_TEST(c.read_until_close(5s));
    const auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 2u, c.received());
    BOOST_TEST(responses[0].result_int() == 201u, responses[0].body());
    BOOST_TEST(responses[1].result_int() == 200u, responses[1].body());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- slow headers (slowloris) -------------------------------------------------

BOOST_AUTO_TEST_SUITE(slow_headers_suite)

BOOST_AUTO_TEST_CASE(headers_trickled_in_are_cut_at_the_header_timeout_while_idle_connections_wait)
{
    server_fixture f([](auto& o) {
        o.header_timeout = 400ms;
        o.idle_timeout = 30s;
    });
    raw_client idle(f.port()); // has sent nothing: only the idle timeout applies
    raw_client slow(f.port());
    BOOST_TEST_REQUIRE(idle.connected());
    const auto t0 = steady::now();
    BOOST_TEST_REQUIRE(slow.write("GET /api/v1/sync/products HTTP/1.1\r\n"));
    // One header line every 50 ms, each keeping the connection busy; the
    // server must close it anyway once the header timeout is spent.
    bool closed = false;
    for (int line = 0; line < 100 && !closed; ++line) {
        if (!slow.write("X-Padding-" + std::to_string(line) + ": a\r\n"))
            closed = true;
        else
            closed = slow.read_some(50ms) == raw_client::read_status::closed;
    }
    const auto took = steady::now() - t0;
    BOOST_TEST(closed, "still open after 100 header lines");
    BOOST_TEST((took >= 350ms), std::chrono::duration_cast<duration>(took).count() << " ms");
    BOOST_TEST((took < 3s), std::chrono::duration_cast<duration>(took).count() << " ms");
    // The idle one was not cut: it may still send a request and be answered.
    BOOST_TEST(!idle.peer_closed());
    BOOST_TEST_REQUIRE(idle.write("GET /api/v1/sync/products?limit=1 HTTP/1.1\r\nHost: x\r\n" + auth
                                  + "Connection: close\r\n\r\n"));
    BOOST_TEST(idle.read_until_close(5s));
    const auto responses = parse_responses(idle.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u);
    BOOST_TEST(responses[0].result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(a_body_trickled_in_is_cut_at_the_idle_timeout)
{
    server_fixture f([](auto& o) {
        o.header_timeout = 5s;
        o.idle_timeout = 300ms;
    });
    const auto before = f.snapshot();
    raw_client slow(f.port());
    BOOST_TEST_REQUIRE(slow.write("POST /api/v1/products HTTP/1.1\r\nHost: x\r\n" + auth
                                  + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"));
    bool closed = false;
    for (int i = 0; i < 100 && !closed; ++i)
        closed = !slow.write(" ") || slow.read_some(50ms) == raw_client::read_status::closed;
    BOOST_TEST(closed);
    BOOST_TEST(f.wait_for_stats([](const auto& s) { return s.sessions == 0; }));
    BOOST_TEST(f.snapshot() == before);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- connections per address -----------------------------------------------------

BOOST_AUTO_TEST_SUITE(connection_cap_suite)

constexpr std::size_t cap = 4;

BOOST_AUTO_TEST_CASE(the_connection_over_the_cap_is_answered_429_and_closed)
{
    server_fixture f([](auto& o) { o.max_connections_per_address = cap; });
    // Connections of every kind count: two keep-alive HTTP, a WebSocket, an SSE stream.
    auto a = f.http();
    auto b = f.http();
    BOOST_TEST_REQUIRE(a.get("/api/v1/sync/products?limit=1").status == 200u);
    BOOST_TEST_REQUIRE(b.get("/api/v1/sync/products?limit=1").status == 200u);
    ws_client ws(f.port(), "/ws/sync/1?token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());
    sse_client sse(f.port(), "/api/v1/sync/events?cash_register_id=2", till_1);
    BOOST_TEST_REQUIRE(sse.status() == 200u);
    BOOST_TEST(f.wait_for_stats([](const auto& s) { return s.sessions == cap; }));

    for (int i = 0; i < 3; ++i) {
        auto over = raw_exchange(f.port(), "GET /api/v1/sync/products HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n");
        BOOST_TEST(over.status == 429u, over.status << over.failure);
        BOOST_TEST(over.is_error("rate_limited"), over.body());
        BOOST_TEST(over.header("Retry-After") == "1");
    }
    ws_client refused(f.port(), "/ws/sync/3?token=till-1");
    BOOST_TEST(!refused.is_open());
    BOOST_TEST(refused.status() == 429u);
    BOOST_TEST(f.stats().refused_per_address == 4u);
    BOOST_TEST(f.stats().websocket_connections == 1u);

    // One leaves; its place is free again, for any kind.
    BOOST_TEST(ws.close());
    BOOST_TEST(f.wait_for_stats([](const auto& s) { return s.sessions == cap - 1; }));
    ws_client again(f.port(), "/ws/sync/3?token=till-1");
    BOOST_TEST(again.is_open());
    BOOST_TEST(f.stats().refused_per_address == 4u);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_that_sends_nothing_is_closed_at_the_header_timeout)
{
    server_fixture f([](auto& o) {
        o.max_connections_per_address = 1;
        o.header_timeout = 300ms;
    });
    auto a = f.http();
    BOOST_TEST_REQUIRE(a.get("/api/v1/sync/products?limit=1").status == 200u);
    raw_client silent(f.port());
    BOOST_TEST(silent.read_until_close(3s)); // not the 60 s idle timeout
    BOOST_TEST(f.stats().refused_per_address == 1u);
    BOOST_TEST(a.get("/api/v1/sync/products?limit=1").status == 200u);
}

BOOST_AUTO_TEST_CASE(zero_means_no_cap)
{
    server_fixture f([](auto& o) { o.max_connections_per_address = 0; });
    std::vector<raw_client> many;
    for (int i = 0; i < 40; ++i) many.emplace_back(f.port());
    BOOST_TEST(f.wait_for_stats([](const auto& s) { return s.sessions == 40; }));
    auto c = f.http();
    BOOST_TEST(c.get("/api/v1/sync/products?limit=1").status == 200u);
    BOOST_TEST(f.stats().refused_per_address == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- what the server says: logs and error bodies ---------------------------------

struct logging_server : server_fixture {
    logging_server() : server_fixture([](auto& o) { o.log_requests = true; }) { seed(4); }
};

BOOST_FIXTURE_TEST_SUITE(disclosure_suite, logging_server)

BOOST_AUTO_TEST_CASE(tokens_never_appear_in_the_log)
{
    // Good tokens and guesses, in headers and query strings, on every kind of
    // request; accepted, refused and malformed.
    const std::array<std::string, 4> tokens{"admin-token", "till-1", "till-2", "guess-Zq8xK2"};
    for (const auto& token : tokens) {
        auto c = http();
        (void)c.get("/api/v1/sync/products?limit=1", token);
        (void)c.get("/api/v1/sync/tables?store_id=2", token);
        (void)c.get("/api/v1/sync/check?store_id=1", token);
        (void)c.get("/api/v1/sync/products?token=" + token, "");
        (void)c.send(http::verb::post, "/api/v1/products", R"({"name":"L"})", token);
        (void)c.send(http::verb::post, "/api/v1/products", R"({"name":)", token);
        (void)c.get("/api/v1/nowhere?token=" + token, token);
        ws_client ws(port(), "/ws/sync/5?store_id=2&token=" + token);
        ws_client ws_header(port(), "/ws/sync/5", {{"Authorization", "Bearer " + token}});
        sse_client sse(port(), "/api/v1/sync/events?cash_register_id=5&token=" + token + "&x=1");
        sse_client sse_header(port(), "/api/v1/sync/events?cash_register_id=5", token);
        (void)raw_exchange(port(), "GET /api/v1/sync/products?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
        (void)raw_exchange(port(), "GET /ws/sync/1?token=" + token + "&token=" + token
                                       + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    }
    stop(); // every connection's closing line is in
    const auto lines = log();
    BOOST_TEST(lines.size() > 50u); // the log did record these requests
    for (const auto& line : lines)
        for (const auto& token : tokens)
            BOOST_TEST(line.find(token) == std::string::npos, "token '" << token << "' in: " << line);
}

// Bytes outside printable ASCII as \xNN: what a failure shows is what came.
std::string printable(std::string_view bytes)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : bytes) {
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

BOOST_AUTO_TEST_CASE(error_bodies_name_no_internals)
{
    // Whatever the failure, the body is the protocol's error object and its
    // message says what was wrong with the request, not what the code is.
    auto c = http();
    std::vector<http_reply> replies;
    replies.push_back(c.get("/api/v1/sync/products?since=garbage"));
    replies.push_back(c.get("/api/v1/sync/products?since=" + std::string(300, 'A')));
    replies.push_back(c.get("/api/v1/sync/products?limit=-1"));
    replies.push_back(c.get("/api/v1/sync/incremental?entity_type=%ff"));
    replies.push_back(c.get("/api/v1/sync/tables?store_id=99999999999999999999"));
    replies.push_back(c.send(http::verb::post, "/api/v1/products", R"({"name":1e999})"));
    replies.push_back(c.send(http::verb::post, "/api/v1/products", R"({"price":"NaN"})"));
    replies.push_back(c.send(http::verb::post, "/api/v1/products", std::string(64, '[')));
    replies.push_back(c.send(http::verb::patch, "/api/v1/products/999999", R"({"name":"x"})"));
    replies.push_back(c.send(http::verb::put, "/api/v1/products/1/image", "not a picture", admin_token,
                             {{"Content-Type", "image/png"}}));
    replies.push_back(c.send(http::verb::trace, "/api/v1/products"));
    replies.push_back(raw_exchange(port(), "GET /%%% HTTP/1.1\r\nHost: x\r\n\r\n"));
    replies.push_back(raw_exchange(port(), "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"));
    replies.push_back(raw_exchange(port(), "GET /ws/sync/1?token=till-1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                           "Sec-WebSocket-Key: short\r\n\r\n"));
    const std::array<std::string_view, 12> internals{
        "boost", "std::", "::", ".hpp", ".cpp", "what()", "exception", "sqlite", "0x", "errno", "/work", "/usr"};
    for (const auto& r : replies) {
        BOOST_TEST_CONTEXT(r.status << ' ' << printable(r.body()))
        {
            BOOST_TEST(r.status >= 400u);
            BOOST_TEST(r.status < 500u);
            BOOST_TEST(r.is_error());
            for (auto word : internals) BOOST_TEST(r.body().find(word) == std::string::npos, word);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_security_test
