#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/codec.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/testing/random.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace unit_codec_test {

using namespace incsync;
using pos::product;

product espresso()
{
    product p;
    p.id = 7;
    p.updated_at = *parse_timestamp("2025-12-23T10:30:00.123456Z");
    p.name = "Espresso \"doppio\"\n☕";
    p.sku = "ESP-2";
    p.price_cents = 250;
    p.category_id = 3;
    p.image_version = 1;
    p.is_active = true;
    return p;
}

BOOST_AUTO_TEST_SUITE(codec_suite)

BOOST_AUTO_TEST_CASE(encodes_members_in_declaration_order)
{
    BOOST_TEST(to_json(espresso())
               == R"({"id":7,"updated_at":"2025-12-23T10:30:00.123456Z","name":"Espresso \"doppio\"\n☕",)"
                  R"("sku":"ESP-2","price_cents":250,"category_id":3,"image_url":null,"image_version":1,"is_active":true})");
}

BOOST_AUTO_TEST_CASE(direct_encoder_agrees_with_boost_json_value_from)
{
    testing::rng g(11);
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        for (int i = 0; i < 300; ++i) {
            const E v = testing::random_value<E>(g);
            BOOST_REQUIRE_EQUAL(boost::json::parse(to_json(v)), to_value(v));
        }
    });
}

BOOST_AUTO_TEST_CASE(round_trips_every_pos_entity)
{
    testing::rng g(12);
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        for (int i = 0; i < 300; ++i) {
            const E v = testing::random_value<E>(g);
            auto back = from_json_text<E>(to_json(v), {.require_all_members = true});
            BOOST_REQUIRE_MESSAGE(back.has_value(), back.error().message());
            BOOST_REQUIRE((*back == v));
        }
    });
}

BOOST_AUTO_TEST_CASE(absent_members_keep_defaults_optional_null_is_empty)
{
    auto p = from_json_text<product>(R"({"name":"Tea","category_id":null})");
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->name == "Tea");
    BOOST_TEST(p->price_cents == 0);
    BOOST_TEST(!p->category_id);
    BOOST_TEST(!p->is_active);
}

BOOST_AUTO_TEST_CASE(errors_name_the_member)
{
    auto wrong = from_json_text<product>(R"({"name":"Tea","price_cents":"12"})");
    BOOST_TEST(wrong.error() == error::wrong_type);
    BOOST_TEST(wrong.error().detail == "price_cents");

    auto unknown = from_json_text<product>(R"({"name":"Tea","colour":"red"})");
    BOOST_TEST(unknown.error() == error::unknown_member);
    BOOST_TEST(unknown.error().message() == "unknown member: colour");

    auto missing = from_json_text<product>(R"({"sku":"x"})", create_decode);
    BOOST_TEST(missing.error() == error::missing_member);
    BOOST_TEST(missing.error().detail == "name");
    BOOST_TEST(from_json_text<product>(R"({"name":null})", create_decode).error() == error::wrong_type);

    auto all = from_json_text<product>(R"({"name":"Tea"})", {.require_all_members = true});
    BOOST_TEST(all.error() == error::missing_member);
}

BOOST_AUTO_TEST_CASE(clients_ignore_unknown_members_from_a_newer_server)
{
    auto p = from_json_text<product>(R"({"id":1,"name":"Tea","allergens":["milk"]})", lenient_decode);
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->name == "Tea");
}

BOOST_AUTO_TEST_CASE(store_scoped_create_requires_store_id)
{
    BOOST_TEST(from_json_text<pos::table>(R"({"name":"T1"})", create_decode).error().detail == "store_id");
    BOOST_TEST(from_json_text<pos::setting>(R"({"value":"x"})", create_decode).error().detail == "key");
    BOOST_TEST(from_json_text<pos::setting>(R"({"key":"tax","value":"x"})", create_decode).has_value());
}

BOOST_AUTO_TEST_CASE(malformed_and_hostile_input_is_an_error_value)
{
    for (std::string_view bad : {"", "{", "[]", "null", "\"x\"", "{\"name\":}", "{\"name\":\"a\"}}",
                                 "{\"name\":\"\\ud800\"}x", "{\"price_cents\":1e400}"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!from_json_text<product>(bad).has_value()); }
    }
    BOOST_TEST(from_json_text<product>("[]").error() == error::not_object);
    BOOST_TEST(from_json_text<product>("{").error() == error::bad_json);
    // Out of range for the member type, fractional where an integer is needed.
    BOOST_TEST(from_json_text<product>(R"({"price_cents":18446744073709551615})").error() == error::wrong_type);
    BOOST_TEST(from_json_text<product>(R"({"price_cents":2.5})").error() == error::wrong_type);
    BOOST_TEST(from_json_text<pos::table>(R"({"seats":true})").error() == error::wrong_type);
    // A NUL byte inside a string is data, not a terminator.
    auto nul = from_json_text<product>(R"({"name":"a\u0000b"})");
    BOOST_REQUIRE(nul.has_value());
    BOOST_TEST(nul->name.size() == 3u);
    BOOST_TEST(to_json(*nul).find("a\\u0000b") != std::string::npos);
    // Deep nesting is the parser's to refuse, not a stack overflow.
    BOOST_TEST(!from_json_text<product>(std::string(100000, '[')).has_value());
}

BOOST_AUTO_TEST_CASE(decode_is_all_or_nothing)
{
    product p = espresso();
    boost::json::object delta{{"name", "Latte"}, {"price_cents", "oops"}};
    BOOST_TEST(!decode_members(p, delta).has_value());
    BOOST_TEST((p == espresso()));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_codec_test
