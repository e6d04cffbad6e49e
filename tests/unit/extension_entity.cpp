// A thirteenth entity type, defined only here: a struct, one describe line and
// one traits line. It gets the whole machinery with no library change. This is
// the worked example of docs/extending.md.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/sqlite/server_store.hpp>
#include <incsync.hpp>
#include <incsync/testing/conformance.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "temp_dir.hpp"

namespace shop {

// tag::gift_card[]
struct gift_card {
    std::int64_t id = 0;
    incsync::timestamp updated_at;
    std::int64_t store_id = 0;
    std::string code;
    std::int64_t balance_cents = 0;
    std::optional<incsync::timestamp> expires_at;
    friend bool operator==(const gift_card&, const gift_card&) = default;
};
BOOST_DESCRIBE_STRUCT(gift_card, (), (id, updated_at, store_id, code, balance_cents, expires_at))
// end::gift_card[]

} // namespace shop

// tag::gift_card_traits[]
INCSYNC_ENTITY(shop::gift_card, "gift_card", "gift-cards", store);
// end::gift_card_traits[]

namespace unit_extension_entity_test {

// tag::gift_card_list[]
using shop_entities = incsync::entity_list<incsync::pos::product, shop::gift_card>;
// end::gift_card_list[]
using store_t = incsync::memory::server_store<shop_entities>;

static_assert(incsync::entity<shop::gift_card>);
static_assert(incsync::server_store<store_t>);
static_assert(incsync::client_store<incsync::memory::client_store<shop_entities>>);
static_assert(incsync::required_members<shop::gift_card>.size() == 1); // store_id

using namespace incsync;

BOOST_AUTO_TEST_SUITE(extension_entity)

BOOST_AUTO_TEST_CASE(codec_delta_and_merge_work_for_a_new_type)
{
    auto card = from_json_text<shop::gift_card>(
        R"({"store_id":2,"code":"XMAS-25","balance_cents":5000,"expires_at":"2026-01-31T23:59:59Z"})", create_decode);
    BOOST_REQUIRE(card.has_value());
    BOOST_TEST(card->expires_at->micros == parse_timestamp("2026-01-31T23:59:59Z")->micros);
    BOOST_TEST(from_json_text<shop::gift_card>(R"({"code":"x"})", create_decode).error().detail == "store_id");

    shop::gift_card spent = *card;
    spent.balance_cents = 1200;
    const auto changed = diff(*card, spent);
    BOOST_TEST(changed == member_set{}.set(member_index<shop::gift_card>("balance_cents")));
    shop::gift_card copy = *card;
    BOOST_TEST(apply_delta(copy, encode_delta(spent, changed)).has_value());
    BOOST_TEST((copy == spent));

    shop::gift_card local = *card;
    local.code = "XMAS-25-B";
    const auto merged = merge(*card, local, spent);
    BOOST_TEST(merged.balance_cents == 1200);
    BOOST_TEST(merged.code == "XMAS-25-B");
}

BOOST_AUTO_TEST_CASE(change_log_and_queries_work_for_a_new_type)
{
    store_t store;
    shop::gift_card c;
    c.store_id = 1;
    c.code = "A";
    auto created = store.create(c);
    BOOST_REQUIRE(created.has_value());
    BOOST_TEST(created->change.entity_type == "gift_card");
    BOOST_TEST((created->change.store_id == 1));
    auto page = pull<shop::gift_card>(store, {"", 1, 10});
    BOOST_REQUIRE(page.has_value());
    BOOST_TEST(page->page.changes.size() == 1u);
    BOOST_TEST(pull<shop::gift_card>(store, {"", 2, 10})->page.changes.empty());
    BOOST_TEST(pull<shop::gift_card>(store, {"", std::nullopt, 10}).error() == error::store_id_required);
    bool found = visit_entity<shop_entities>("gift-cards", [](auto) {});
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(conformance_kit_runs_on_a_new_type)
{
    store_t store;
    const auto report = testing::check_convergence(store, {.seed = 13, .operations_per_writer = 800});
    BOOST_TEST(report.passed(), report.summary());
}

BOOST_AUTO_TEST_CASE(a_store_file_takes_a_new_type_without_migration)
{
    // A POS server store file, reopened by a build whose entity list gained
    // gift cards: same file, same epoch, old records and cursors intact.
    backends::temp_dir dir;
    const auto path = dir.file("pos.sqlite3");
    std::string cursor;
    std::uint64_t epoch = 0;
    {
        auto before = incsync::sqlite::server_store<incsync::entity_list<incsync::pos::product>>::open(path);
        BOOST_REQUIRE(before.has_value());
        incsync::pos::product p;
        p.name = "Espresso";
        BOOST_REQUIRE((*before)->create(p).has_value());
        cursor = pull<incsync::pos::product>(**before, {"", std::nullopt, 10})->next_since;
        epoch = (*before)->epoch();
    }
    auto after = incsync::sqlite::server_store<shop_entities>::open(path);
    BOOST_REQUIRE_MESSAGE(after.has_value(), (after ? std::string() : after.error().message()));
    BOOST_TEST((*after)->epoch() == epoch);
    BOOST_TEST(pull<incsync::pos::product>(**after, {cursor, std::nullopt, 10}).has_value());
    shop::gift_card c;
    c.store_id = 1;
    c.code = "B";
    auto created = (*after)->create(c);
    BOOST_REQUIRE(created.has_value());
    BOOST_TEST(created->change.version == 2u);
    BOOST_TEST(pull<shop::gift_card>(**after, {"", 1, 10})->page.changes.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_extension_entity_test
