#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/delta.hpp>
#include <incsync/merge.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/testing/random.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace unit_delta_test {

using namespace incsync;
using pos::product;

BOOST_AUTO_TEST_SUITE(delta_suite)

BOOST_AUTO_TEST_CASE(diff_names_exactly_the_changed_members)
{
    product a, b;
    a.name = b.name = "Tea";
    b.price_cents = 5;
    b.image_url = "x.png";
    const auto d = diff(a, b);
    BOOST_TEST(d.count() == 2u);
    BOOST_TEST(d.test(member_index<product>("price_cents")));
    BOOST_TEST(d.test(member_index<product>("image_url")));
    BOOST_TEST(diff(a, a).empty());
    BOOST_TEST(boost::json::serialize(encode_delta(b, d)) == R"({"price_cents":5,"image_url":"x.png"})");
    std::string text;
    append_delta_json(text, b, d);
    BOOST_TEST(text == R"({"price_cents":5,"image_url":"x.png"})");
}

BOOST_AUTO_TEST_CASE(applying_the_delta_of_a_to_b_onto_a_yields_b)
{
    testing::rng g(21);
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        for (int i = 0; i < 500; ++i) {
            const E a = testing::random_value<E>(g);
            E b = a;
            testing::mutate(b, g);
            const auto changed = diff(a, b);
            // Through JSON text, as on the wire.
            std::string text;
            append_delta_json(text, b, changed);
            E c = a;
            auto applied = apply_delta(c, boost::json::parse(text).as_object());
            BOOST_REQUIRE_MESSAGE(applied.has_value(), applied.error().message());
            BOOST_REQUIRE(*applied == changed);
            BOOST_REQUIRE((c == b));
        }
    });
}

BOOST_AUTO_TEST_CASE(server_wins_on_conflicting_member)
{
    product base;
    base.name = "Tea";
    base.price_cents = 100;
    product local = base, server = base;
    local.price_cents = 120; // cashier's local edit
    server.price_cents = 150; // console changed the same member
    server.sku = "T-1";       // and another one
    const product merged = merge(base, local, server);
    BOOST_TEST(merged.price_cents == 150);
    BOOST_TEST(merged.sku == "T-1");
}

BOOST_AUTO_TEST_CASE(local_edit_survives_in_members_the_server_did_not_change)
{
    product base;
    base.name = "Tea";
    product local = base, server = base;
    local.is_active = true;
    server.name = "Green tea";
    const product merged = merge(base, local, server);
    BOOST_TEST(merged.is_active);
    BOOST_TEST(merged.name == "Green tea");
}

BOOST_AUTO_TEST_CASE(merge_property_member_by_member)
{
    testing::rng g(22);
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        for (int i = 0; i < 500; ++i) {
            const E base = testing::random_value<E>(g);
            E local = base, server = base;
            testing::mutate(local, g);
            testing::mutate(server, g);
            const E m = merge(base, local, server);
            const auto server_changed = diff(base, server);
            const auto from_server = diff(m, server);
            const auto from_local = diff(m, local);
            // Every member equals the server's where the server changed it, else the local one.
            BOOST_REQUIRE((from_server & server_changed).empty());
            BOOST_REQUIRE((from_local - server_changed).empty());
            BOOST_REQUIRE((merge(local, server, server_changed) == m));
        }
    });
}

BOOST_AUTO_TEST_CASE(bad_delta_changes_nothing)
{
    product p;
    p.name = "Tea";
    const product before = p;
    BOOST_TEST(apply_delta(p, boost::json::object{{"name", 5}}).error() == error::wrong_type);
    BOOST_TEST(apply_delta(p, boost::json::object{{"name", "x"}, {"nope", 1}}).error() == error::unknown_member);
    BOOST_TEST((p == before));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_delta_test
