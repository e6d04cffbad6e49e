#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "loopback.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>

using namespace incsync;
using namespace loopback;

namespace {

std::int64_t create_product(server_side& server, std::string name)
{
    pos::product p;
    p.name = std::move(name);
    return server.create(p).record->value.id;
}

std::optional<stored_image> image_of(const replica_t& r, std::int64_t id)
{
    return r.image("product", id).value();
}

} // namespace

BOOST_AUTO_TEST_SUITE(client_images)

BOOST_AUTO_TEST_CASE(a_product_image_is_fetched_replaced_on_a_new_version_and_dropped_with_its_product)
{
    server_side server;
    const auto id = create_product(server, "Croissant");
    const auto plain = create_product(server, "No picture");
    BOOST_TEST_REQUIRE(server.upload_image(id, "<circle r='1'/>") == 200u);
    client_side c(server, client_side::options(1));
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return image_of(c.replica, id).has_value(); }));
    BOOST_TEST(image_of(c.replica, id)->version == 1);
    BOOST_TEST(image_of(c.replica, id)->bytes.find("circle") != std::string::npos);
    BOOST_TEST(image_of(c.replica, id)->content_type == "image/svg+xml");
    BOOST_TEST(!image_of(c.replica, plain).has_value());

    BOOST_TEST_REQUIRE(server.upload_image(id, "<rect width='2'/>") == 200u);
    BOOST_TEST(wait_until([&] {
        auto img = image_of(c.replica, id);
        return img && img->version == 2 && img->bytes.find("rect") != std::string::npos;
    }));
    server.remove<pos::product>(id);
    BOOST_TEST(wait_until([&] { return !image_of(c.replica, id).has_value(); }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()); }));
}

BOOST_AUTO_TEST_CASE(an_unchanged_image_under_a_new_version_costs_no_transfer)
{
    server_side server;
    const auto id = create_product(server, "Bagel");
    server.upload_image(id, "<circle r='3'/>");
    client_side c(server, client_side::options(1));
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return image_of(c.replica, id).has_value(); }));
    BOOST_TEST(c.transport.answered(304) == 0u);
    server.upload_image(id, "<circle r='3'/>"); // same bytes, new image_version
    BOOST_TEST(wait_until([&] { return image_of(c.replica, id)->version == 2; }));
    BOOST_TEST(c.transport.answered(304) == 1u);
}

BOOST_AUTO_TEST_CASE(failing_downloads_are_retried_silently_and_shown_only_when_persistent)
{
    server_side server;
    const auto id = create_product(server, "Donut");
    server.upload_image(id, "<circle r='4'/>");
    std::atomic<bool> failing{true};
    auto options = client_side::options(1);
    options.image_retry_initial = 5ms;
    options.image_retry_max = 20ms;
    options.image_failures_persistent = 3;
    client_side c(server, options);
    c.transport.intercept([&](std::string_view target) -> std::optional<client::http_result> {
        if (!failing || target.find("/image") == std::string_view::npos) return std::nullopt;
        client::http_result r;
        r.status = 503;
        r.body = R"({"error":{"code":"unavailable","message":"try later"}})";
        return r;
    });
    c.client->start();
    BOOST_TEST(wait_until([&] { return c.client->status().images_failing == 1; }));
    auto st = c.client->status();
    BOOST_TEST(st.images_pending == 1u);
    BOOST_TEST(st.pending >= 1u);
    BOOST_TEST(!st.has_error()); // an image is not a sync error of its type
    failing = false;
    BOOST_TEST(wait_until([&] { return image_of(c.replica, id).has_value(); }));
    BOOST_TEST(wait_until([&] {
        auto s = c.client->status();
        return s.images_failing == 0 && s.images_pending == 0 && settled(s);
    }));
}

BOOST_AUTO_TEST_SUITE_END()
