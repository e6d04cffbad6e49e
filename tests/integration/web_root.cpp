// The web POS page's files beside the sync API on one port
// (server_options::web_root): served for GET and HEAD outside /api/, while
// the API, its errors and the WebSocket stay as they were.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"
#include "process.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>

namespace integration_web_root_test {

using namespace it;

struct site {
    temp_dir dir;
    server_fixture server{[this](incsync::beast::server_options& o) {
        std::ofstream(dir.file("index.html")) << "<!doctype html><title>POS</title>";
        o.web_root = dir.path();
    }};
};

BOOST_FIXTURE_TEST_SUITE(web_root_suite, site)

BOOST_AUTO_TEST_CASE(the_page_and_the_api_share_one_port)
{
    http_client http(server.port());
    auto page = http.get("/", "");
    BOOST_TEST(page.status == 200u);
    BOOST_TEST(page.body() == "<!doctype html><title>POS</title>");
    BOOST_TEST(page.header("Content-Type") == "text/html; charset=utf-8");
    BOOST_TEST(page.has_header("Content-Security-Policy"));

    raw_client head(server.port()); // HEAD: a header with the page's length, no body
    BOOST_REQUIRE(head.write("HEAD /index.html HTTP/1.1\r\nHost: pos\r\n\r\n"));
    BOOST_REQUIRE(head.read_until("\r\n\r\n"));
    BOOST_TEST(head.received().starts_with("HTTP/1.1 200 OK\r\n"));
    BOOST_TEST(head.received().find("Content-Length: 33\r\n") != std::string::npos);
    BOOST_TEST(head.received().ends_with("\r\n\r\n"));

    // The API is untouched: its routes, its auth and its JSON errors.
    BOOST_TEST(http.get("/api/v1/sync/products?limit=1", till_1).status == 200u);
    BOOST_TEST(http.get("/api/v1/sync/products", "").is_error("unauthorized"));
    ws_client ws(server.port(), "/ws/sync/7?token=" + std::string(till_1));
    BOOST_TEST(ws.status() == 101u);
}

BOOST_AUTO_TEST_CASE(what_is_not_a_file_there_is_the_apis_json_404)
{
    http_client http(server.port());
    for (const char* path : {"/missing.js", "/../process.hpp", "/%2e%2e/x"}) {
        auto res = http.get(path, "");
        BOOST_TEST_CONTEXT(path)
        {
            BOOST_TEST(res.status == 404u);
            BOOST_TEST(res.is_error("not_found"));
        }
    }
    BOOST_TEST(http.send(http::verb::post, "/", "{}", "").status != 200u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_web_root_test
