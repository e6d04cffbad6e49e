#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/pos/entities.hpp>

#include <boost/test/unit_test.hpp>

#include "backends.hpp"

#include <atomic>
#include <thread>

namespace unit_client_store_test {

using namespace incsync;
using pos::product;
static_assert(client_store<backends::memory_backend::client_type>);
static_assert(client_store<backends::sqlite_backend::client_type>);
static_assert(client_image_store<backends::memory_backend::client_type>);
static_assert(client_image_store<backends::sqlite_backend::client_type>);

product item(std::int64_t id, std::int64_t price)
{
    product p;
    p.id = id;
    p.name = "P" + std::to_string(id);
    p.price_cents = price;
    return p;
}

sync_state state_at(version_t v)
{
    return {"product", timestamp::now(), v, "cursor-" + std::to_string(v)};
}

BOOST_AUTO_TEST_SUITE(client_store_suite)

BOOST_AUTO_TEST_CASE_TEMPLATE(applies_upserts_deletes_and_state_together, B, backends::clients)
{
    B backend;
    auto& r = backend.client();
    BOOST_TEST(!*r.template state<product>());
    BOOST_TEST(r.template apply<product>({false, {item(1, 10), item(2, 20)}, {}, state_at(2)}).has_value());
    BOOST_TEST(r.template apply<product>({false, {item(2, 25)}, {1, 99}, state_at(4)}).has_value());
    auto all = r.template all<product>();
    BOOST_REQUIRE_EQUAL(all->size(), 1u);
    BOOST_TEST((*all)[0].price_cents == 25);
    BOOST_TEST(!r.template get<product>(1).value());
    BOOST_TEST((*r.template state<product>())->sync_version == 4u);
    BOOST_TEST(!*r.template state<pos::category>());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reset_drops_the_type_and_only_that_type, B, backends::clients)
{
    B backend;
    auto& r = backend.client();
    pos::category c;
    c.id = 1;
    (void)r.template apply<pos::category>({false, {c}, {}, {"category", {}, 1, "x"}});
    (void)r.template apply<product>({false, {item(1, 10), item(2, 20)}, {}, state_at(2)});
    (void)r.template apply<product>({true, {item(3, 30)}, {}, state_at(9)});
    BOOST_TEST(r.template size<product>() == 1u);
    BOOST_TEST(r.template size<pos::category>() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(readers_never_see_a_page_half_applied, B, backends::clients)
{
    // Each page rewrites all 200 records with one price and the state with the
    // same version: a reader must always see records and state agree.
    B backend;
    auto& r = backend.client();
    auto page = [](std::int64_t v) {
        page_update<product> u{false, {}, {}, state_at(static_cast<version_t>(v))};
        for (int id = 1; id <= 200; ++id) u.upserts.push_back(item(id, v));
        return u;
    };
    (void)r.template apply<product>(page(1));
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::int64_t v = 2; v < 300; ++v) (void)r.template apply<product>(page(v));
        done = true;
    });
    int checks = 0;
    while (!done) {
        auto all = r.template all<product>();
        for (auto& p : *all) BOOST_REQUIRE_EQUAL(p.price_cents, (*all)[0].price_cents);
        ++checks;
    }
    writer.join();
    BOOST_TEST(checks > 0);
    BOOST_TEST((*r.template state<product>())->sync_version == 299u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(server_wins_on_members_it_changed_and_local_edits_survive_elsewhere, B, backends::clients)
{
    B backend;
    auto& r = backend.client();
    BOOST_TEST(r.template apply<product>({false, {item(1, 10)}, {}, state_at(1)}).has_value());
    auto local = item(1, 10);
    local.name = "Renamed at the till";
    local.is_active = true;
    BOOST_TEST(r.edit(local).has_value());
    BOOST_TEST(r.template local_edits<product>() == 1u);
    BOOST_TEST(r.template get<product>(1).value()->name == "Renamed at the till");

    // The server changes the price only: the local name and flag survive.
    BOOST_TEST(r.template apply<product>({false, {item(1, 99)}, {}, state_at(2)}).has_value());
    auto merged = r.template get<product>(1).value();
    BOOST_TEST(merged->price_cents == 99);
    BOOST_TEST(merged->name == "Renamed at the till");
    BOOST_TEST(merged->is_active);

    // The server renames it too: server wins on that member.
    auto renamed = item(1, 99);
    renamed.name = "Server name";
    BOOST_TEST(r.template apply<product>({false, {renamed}, {}, state_at(3)}).has_value());
    merged = r.template get<product>(1).value();
    BOOST_TEST(merged->name == "Server name");
    BOOST_TEST(merged->is_active);

    // A delete wins over any local edit.
    BOOST_TEST(r.template apply<product>({false, {}, {1}, state_at(4)}).has_value());
    BOOST_TEST(!r.template get<product>(1).value());
    BOOST_TEST(r.template local_edits<product>() == 0u);
    BOOST_TEST(!r.edit(local).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(keeps_images_by_type_and_id, B, backends::clients)
{
    B backend;
    auto& r = backend.client();
    BOOST_TEST(!r.image("product", 1).value());
    BOOST_TEST(r.put_image("product", 1, {3, "\"e\"", "image/png", "bytes"}).has_value());
    BOOST_TEST(r.image("product", 1).value()->version == 3);
    BOOST_TEST(!r.image("category", 1).value());
    BOOST_TEST(r.remove_image("product", 1).has_value());
    BOOST_TEST(!r.image("product", 1).value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_index_finds_by_member_and_follows_updates_deletes_and_edits, B, backends::clients)
{
    B backend;
    auto& r = backend.client();
    auto in = [](std::int64_t id, std::optional<std::int64_t> category) {
        auto p = item(id, 10);
        p.category_id = category;
        return p;
    };
    BOOST_TEST(r.template apply<product>({false, {in(1, 7), in(2, 7), in(3, 8), in(4, std::nullopt)}, {}, state_at(1)}).has_value());
    BOOST_TEST(!r.template add_index<product>("colour").has_value());
    BOOST_TEST(r.template add_index<product>("category_id").has_value());
    auto ids = [&](auto v) {
        std::vector<std::int64_t> out;
        for (const auto& p : r.template find<product>("category_id", v).value()) out.push_back(p.id);
        return out;
    };
    BOOST_TEST(ids(7) == (std::vector<std::int64_t>{1, 2}));
    BOOST_TEST(ids(std::optional<std::int64_t>{}) == (std::vector<std::int64_t>{4}));
    BOOST_TEST(r.template apply<product>({false, {in(2, 8), in(5, 7)}, {1}, state_at(2)}).has_value());
    BOOST_TEST(ids(7) == (std::vector<std::int64_t>{5}));
    BOOST_TEST(ids(8) == (std::vector<std::int64_t>{2, 3}));
    BOOST_TEST(r.edit(in(3, 9)).has_value());
    BOOST_TEST(ids(8) == (std::vector<std::int64_t>{2}));
    BOOST_TEST(ids(9) == (std::vector<std::int64_t>{3}));
    // Without an index the same answers, by scanning.
    BOOST_TEST(r.template find<product>("price_cents", 10).value().size() == 4u);
    BOOST_TEST(r.template apply<product>({true, {in(6, 7)}, {}, state_at(3)}).has_value());
    BOOST_TEST(ids(7) == (std::vector<std::int64_t>{6}));
    BOOST_TEST(ids(8).empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_client_store_test
