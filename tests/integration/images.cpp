// Product images over HTTP (PROTOCOL.md section 4): upload, renditions,
// ETag revalidation, notifications, refusals.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>

namespace integration_images_test {

using namespace it;

http_reply upload(http_client& c, std::string target, std::string bytes, std::string_view type = "image/png")
{
    return c.send(http::verb::put, std::move(target), std::move(bytes), admin_token,
                  {{"Content-Type", std::string(type)}});
}

BOOST_FIXTURE_TEST_SUITE(images_suite, server_fixture)

BOOST_AUTO_TEST_CASE(an_upload_bumps_the_image_version_and_is_notified)
{
    auto c = http();
    const auto id = create(c, "products", R"({"name":"Espresso"})");
    const auto url = "/api/v1/products/" + std::to_string(id) + "/image";
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());

    auto r = upload(c, url, tiny_png(1));
    BOOST_TEST_REQUIRE(r.status == 200u, r.body());
    BOOST_TEST(r.json().at("image_version") == json::value(1));
    BOOST_TEST(r.json().at("image_url") == json::value(url));
    BOOST_TEST(c.get("/api/v1/products/" + std::to_string(id)).json() == r.json());

    auto n = ws.next_json();
    BOOST_TEST_REQUIRE(n.has_value());
    BOOST_TEST(n->at("entity_type") == json::value("product"));
    BOOST_TEST(n->at("entity_id") == json::value(id));
    BOOST_TEST(n->at("change_type") == json::value("update"));

    // A pull shows the new members.
    auto pull = c.get("/api/v1/sync/products");
    BOOST_TEST(pull.json().at("changes").at(0).at("data").at("image_version") == json::value(1));

    // A second upload: version 2, a new ETag.
    auto first_tag = c.get(url).header("ETag");
    auto again = upload(c, url, tiny_png(2));
    BOOST_TEST(again.json().at("image_version") == json::value(2));
    BOOST_TEST(c.get(url).header("ETag") != first_tag);
    BOOST_TEST(member(ws.next_json(), "entity_id") == json::value(id));
}

BOOST_AUTO_TEST_CASE(get_answers_bytes_with_etag_and_304_on_if_none_match)
{
    auto c = http();
    const auto id = create(c, "products", R"({"name":"Espresso"})");
    const auto url = "/api/v1/products/" + std::to_string(id) + "/image";
    BOOST_TEST_REQUIRE(upload(c, url, tiny_png()).status == 200u);

    auto r = c.get(url + "?size=110");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(r.body() == tiny_png());
    BOOST_TEST(r.header("Content-Type") == "image/png");
    const auto etag = r.header("ETag");
    BOOST_TEST(etag.size() > 2u);
    BOOST_TEST(etag.front() == '"');
    BOOST_TEST(etag.back() == '"');
    BOOST_TEST(r.header("Content-Length") == std::to_string(tiny_png().size()));

    for (std::string inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
        auto cached = c.get(url + "?size=110", admin_token, {{"If-None-Match", inm}});
        BOOST_TEST(cached.status == 304u, inm);
        BOOST_TEST(cached.body().empty());
        BOOST_TEST(cached.header("ETag") == etag);
    }
    auto stale = c.get(url, admin_token, {{"If-None-Match", "\"0000000000000000\""}});
    BOOST_TEST(stale.status == 200u);
    BOOST_TEST(stale.body() == tiny_png());
    // Keep-alive survives the 304s: everything went over one connection.
    BOOST_TEST(stats().http_connections == 1u);
    for (std::string size : {"0", "-1", "4097", "abc"}) BOOST_TEST(c.get(url + "?size=" + size).status == 400u, size);
}

BOOST_AUTO_TEST_CASE(uploads_that_are_not_images_are_415_and_change_nothing)
{
    auto c = http();
    const auto id = create(c, "products", R"({"name":"Espresso"})");
    const auto url = "/api/v1/products/" + std::to_string(id) + "/image";
    const auto before = snapshot();
    for (std::string bytes : {std::string("hello"), std::string(R"({"name":"x"})"), std::string("\x89PNX\r\n", 7),
                              std::string(), std::string("<html><svg/></html>")}) {
        auto r = upload(c, url, bytes);
        BOOST_TEST(r.status == 415u, r.body());
        BOOST_TEST(r.is_error("unsupported_media_type"), r.body());
    }
    BOOST_TEST(snapshot() == before);
    BOOST_TEST(c.get(url).status == 404u); // still no image
}

BOOST_AUTO_TEST_CASE(images_of_unknown_or_deleted_products_are_404)
{
    auto c = http();
    auto r = upload(c, "/api/v1/products/999/image", tiny_png());
    BOOST_TEST(r.status == 404u);
    BOOST_TEST(r.is_error("not_found"));
    BOOST_TEST(c.get("/api/v1/products/999/image").status == 404u);
    BOOST_TEST(images->size() == 0u);

    const auto id = create(c, "products", R"({"name":"Espresso"})");
    const auto url = "/api/v1/products/" + std::to_string(id) + "/image";
    BOOST_TEST_REQUIRE(upload(c, url, tiny_png()).status == 200u);
    BOOST_TEST_REQUIRE(c.get(url).status == 200u);
    BOOST_TEST(c.send(http::verb::delete_, "/api/v1/products/" + std::to_string(id)).status == 204u);
    auto gone = c.get(url);
    BOOST_TEST(gone.status == 404u);
    BOOST_TEST(gone.is_error("not_found"));
    BOOST_TEST(c.get(url + "?size=110").status == 404u);
    BOOST_TEST(images->size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// Image uploads have their own size limit, above the JSON body limit.
BOOST_AUTO_TEST_SUITE(image_limit_suite)

struct image_limits : server_fixture {
    image_limits()
        : server_fixture([](auto& o) {
              o.api.max_body_bytes = 1024;
              o.api.max_image_bytes = 64 * 1024;
          })
    {
        auto c = http();
        url = "/api/v1/products/" + std::to_string(create(c, "products", R"({"name":"Espresso"})")) + "/image";
    }
    std::string url;
};

// The body limit depends on the target: an image upload may be larger than
// a JSON body (Beast checks Content-Length when the header completes).
BOOST_FIXTURE_TEST_CASE(an_image_with_content_length_above_the_json_limit_is_accepted, image_limits)
{
    auto c = http();
    const auto big = tiny_png() + std::string(32 * 1024, 'x');
    auto r = upload(c, url, big);
    BOOST_TEST(r.status == 200u, r.body());
    BOOST_TEST((c.get(url).body() == big));
}

BOOST_FIXTURE_TEST_CASE(a_chunked_image_above_the_json_limit_is_accepted, image_limits)
{
    const auto big = tiny_png() + std::string(32 * 1024, 'x');
    std::string req = "PUT " + url + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-token\r\n"
                    + "Content-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < big.size(); at += 8192) {
        const auto part = big.substr(at, 8192);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", part.size());
        req += std::string(size) + "\r\n" + part + "\r\n";
    }
    req += "0\r\n\r\n";
    raw_client raw(port());
    BOOST_TEST_REQUIRE(raw.write(req));
    BOOST_TEST_REQUIRE(raw.read_until("}"), raw.received());
    auto responses = parse_responses(raw.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u, raw.received());
    BOOST_TEST(responses[0].result_int() == 200u, responses[0].body());
    auto c = http();
    BOOST_TEST((c.get(url).body() == big));
}

BOOST_FIXTURE_TEST_CASE(an_image_over_its_own_limit_is_413, image_limits)
{
    auto c = http();
    auto huge = upload(c, url, tiny_png() + std::string(65 * 1024, 'x'));
    BOOST_TEST(huge.status == 413u, huge.failure);
    BOOST_TEST(huge.is_error("payload_too_large"));
    // A JSON body over its limit on the same connection type is 413 as well.
    auto json_body = c.send(http::verb::post, "/api/v1/products", R"({"name":")" + std::string(2000, 'x') + R"("})");
    BOOST_TEST(json_body.status == 413u, json_body.failure);
    BOOST_TEST(c.get(url).status == 404u); // nothing stored
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_images_test
