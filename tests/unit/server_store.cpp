#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/pos/entities.hpp>
#include <incsync/pull.hpp>

#include <boost/test/unit_test.hpp>

#include "backends.hpp"
#include "fixtures.hpp"

#include <chrono>

namespace unit_server_store_test {

using namespace incsync;
using fixtures::named;
using fixtures::table_of;
using pos::product;
using pos::setting;
static_assert(server_store<backends::memory_backend::server_type>);
static_assert(server_store<backends::sqlite_backend::server_type>);
static_assert(server_store<backends::postgres_backend::server_type>);

template <class E, class Store>
pull_result<E> pull_ok(const Store& s, std::string_view since, std::optional<std::int64_t> store = {},
                       std::size_t limit = 1000)
{
    auto r = pull<E>(s, {since, store, limit});
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message()));
    return std::move(*r);
}

BOOST_AUTO_TEST_SUITE(server_store_suite)

BOOST_AUTO_TEST_CASE_TEMPLATE(every_write_gets_the_next_version_and_a_later_timestamp, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    auto a = s.create(named("A"));
    auto b = s.create(table_of(1, "T1"));
    auto c = s.update(a->change.id, named("A2"), member_set{}.set(member_index<product>("name")));
    auto d = s.template remove<product>(a->change.id);
    BOOST_REQUIRE(a.has_value() && b.has_value() && c.has_value() && d.has_value());
    BOOST_TEST(a->change.version == 1u);
    BOOST_TEST(b->change.version == 2u);
    BOOST_TEST(c->change.version == 3u);
    BOOST_TEST(d->change.version == 4u);
    BOOST_TEST(a->change.committed_at < b->change.committed_at);
    BOOST_TEST(b->change.committed_at < c->change.committed_at);
    BOOST_TEST(c->change.committed_at < d->change.committed_at);
    BOOST_TEST(c->record->value.updated_at == c->change.committed_at);
    BOOST_TEST((b->change.store_id == 1));
    BOOST_TEST(d->change.type == change_type::remove);
    auto log = s.log_since(0);
    BOOST_REQUIRE_EQUAL(log->size(), 4u);
    BOOST_TEST(((*log)[2] == c->change));
    BOOST_TEST(*s.high_water() == 4u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(update_logs_only_changed_members_and_noop_is_not_a_write, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    auto a = s.create(named("A", 100));
    product p = named("A", 150);
    p.sku = "ignored: not in the member set";
    auto c = s.update(a->change.id, p, member_set{}.set(member_index<product>("price_cents")).set(member_index<product>("name")));
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->change.changed == member_set{}.set(member_index<product>("price_cents")).set(member_index<product>("updated_at")));
    BOOST_TEST(c->record->value.sku == "");
    auto same = s.update(a->change.id, p, member_set::first(member_count<product>));
    BOOST_TEST(!same->is_noop()); // sku and the rest now differ
    auto again = s.update(a->change.id, p, member_set::first(member_count<product>));
    BOOST_TEST(again->is_noop());
    BOOST_TEST(*s.high_water() == 3u);
    // id and updated_at never come from input.
    product forged = named("A");
    forged.id = 999;
    forged.updated_at = timestamp{1};
    auto f = s.update(a->change.id, forged, member_set::first(member_count<product>));
    BOOST_TEST(f->record->value.id == a->change.id);
    BOOST_TEST(f->record->value.updated_at.micros > 1);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(writes_to_missing_records_and_store_moves_are_refused, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    BOOST_TEST(s.update(42, named("x"), member_set::first(3)).error() == error::not_found);
    BOOST_TEST(s.template remove<product>(42).error() == error::not_found);
    BOOST_TEST(s.template get<product>(42).error() == error::not_found);
    auto t = s.create(table_of(1, "T1"));
    auto moved = s.update(t->change.id, table_of(2, "T1"), member_set::first(member_count<pos::table>));
    BOOST_TEST(moved.error() == error::immutable_member);
    BOOST_TEST(s.template get<pos::table>(t->change.id).value()->value.store_id == 1);
    BOOST_TEST(*s.high_water() == 1u);
    (void)s.template remove<pos::table>(t->change.id);
    BOOST_TEST(s.template remove<pos::table>(t->change.id).error() == error::not_found);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pull_pages_in_version_order_with_tombstones, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(s.create(named("P" + std::to_string(i)))->change.id);
    (void)s.template remove<product>(ids[2]);
    (void)s.update(ids[0], named("P0 renamed"), member_set{}.set(member_index<product>("name")));

    auto first = pull_ok<product>(s, "", {}, 4);
    BOOST_TEST(first.page.has_more);
    BOOST_REQUIRE_EQUAL(first.page.changes.size(), 4u);
    BOOST_TEST(first.page.changes[0].record->value.id == ids[1]); // ids[0] moved to the end
    BOOST_TEST(first.page.deleted.empty());                      // created and deleted before the cursor: skipped
    std::vector<std::int64_t> seen;
    std::string since = first.next_since;
    for (auto& e : first.page.changes) seen.push_back(e.record->value.id);
    for (;;) {
        auto p = pull_ok<product>(s, since, {}, 4);
        for (auto& e : p.page.changes) seen.push_back(e.record->value.id);
        since = p.next_since;
        if (!p.page.has_more) break;
    }
    BOOST_TEST(seen == (std::vector<std::int64_t>{ids[1], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], ids[9], ids[0]}));

    // A cursor from before the delete gets the tombstone.
    auto before_delete = pull_ok<product>(s, "", {}, 2);
    auto rest = pull_ok<product>(s, before_delete.next_since, {}, 1000);
    BOOST_REQUIRE_EQUAL(rest.page.deleted.size(), 1u);
    BOOST_TEST(rest.page.deleted[0].id == ids[2]);
    BOOST_TEST(rest.page.high_water == 12u);
    BOOST_TEST(!rest.page.has_more);
    // Caught up: an empty page, same high water.
    auto none = pull_ok<product>(s, rest.next_since);
    BOOST_TEST(none.page.changes.empty());
    BOOST_TEST(none.page.high_water == 12u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(delta_names_members_changed_after_the_cursor, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    auto a = s.create(named("A", 100));
    auto at = pull_ok<product>(s, "");
    (void)s.update(a->change.id, named("A", 200), member_set{}.set(member_index<product>("price_cents")));
    auto b = s.create(named("B"));
    auto p = pull_ok<product>(s, at.next_since);
    BOOST_REQUIRE_EQUAL(p.page.changes.size(), 2u);
    BOOST_TEST((p.page.changes[0].type == change_type::update));
    BOOST_TEST(p.page.changes[0].changed
               == member_set{}.set(member_index<product>("price_cents")).set(member_index<product>("updated_at")));
    BOOST_TEST((p.page.changes[1].type == change_type::create));
    BOOST_TEST(p.page.changes[1].changed == member_set::first(member_count<product>));
    BOOST_TEST(p.page.changes[1].record->value.id == b->change.id);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(delta_is_relative_to_where_the_catch_up_began, B, backends::all)
{
    // X is created before the reader's complete view, Y after it; both are
    // updated after several other records, so mid catch-up (page boundary at
    // the others) the page cursor is past their creation.
    B backend;
    auto& s = backend.server();
    auto x = s.create(named("X", 1));
    auto view = pull_ok<product>(s, ""); // complete: base = 1
    auto y = s.create(named("Y", 1));
    for (int i = 0; i < 5; ++i) (void)s.create(named("other"));
    const auto price = member_set{}.set(member_index<product>("price_cents"));
    (void)s.update(x->change.id, named("X", 2), price);
    (void)s.update(y->change.id, named("Y", 2), price);

    auto first = pull_ok<product>(s, view.next_since, {}, 5); // the others: past Y's creation
    BOOST_TEST(first.page.has_more);
    auto second = pull_ok<product>(s, first.next_since, {}, 6);
    BOOST_REQUIRE_EQUAL(second.page.changes.size(), 2u);
    const auto& ex = second.page.changes[0];
    const auto& ey = second.page.changes[1];
    BOOST_TEST(ex.record->value.id == x->change.id);
    BOOST_TEST((ex.type == change_type::update)); // the reader holds X from its complete view
    BOOST_TEST(ex.changed == (price | member_set{}.set(member_index<product>("updated_at"))));
    BOOST_TEST(ey.record->value.id == y->change.id);
    BOOST_TEST((ey.type == change_type::create)); // Y is new since that view: sent whole
    BOOST_TEST(ey.changed == member_set::first(member_count<product>));
    // A timestamp since cannot know the reader's base.
    BOOST_TEST(!pull_ok<product>(s, format_timestamp(view.page.server_time)).since.base_known);
    BOOST_TEST(second.since.base_known);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stores_are_walled_off, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    (void)s.create(table_of(1, "store 1 table"));
    (void)s.create(table_of(2, "store 2 table"));
    setting global, local1, local2;
    global.key = "currency";
    local1.key = local2.key = "receipt_footer";
    local1.store_id = 1;
    local2.store_id = 2;
    (void)s.create(global);
    (void)s.create(local1);
    (void)s.create(local2);

    auto t1 = pull_ok<pos::table>(s, "", 1);
    BOOST_REQUIRE_EQUAL(t1.page.changes.size(), 1u);
    BOOST_TEST(t1.page.changes[0].record->value.store_id == 1);
    auto s2 = pull_ok<setting>(s, "", 2);
    BOOST_REQUIRE_EQUAL(s2.page.changes.size(), 2u);
    for (auto& e : s2.page.changes) BOOST_TEST((e.record->value.store_id != std::optional<std::int64_t>(1)));
    auto global_only = pull_ok<setting>(s, "");
    BOOST_TEST(global_only.page.changes.size() == 1u);
    BOOST_TEST(pull<pos::table>(s, {"", std::nullopt, 10}).error() == error::store_id_required);
    // A store-1 cursor is not accepted for store 2.
    BOOST_TEST(pull<pos::table>(s, {t1.next_since, 2, 10}).error() == error::cursor_mismatch);
    BOOST_TEST(pull<setting>(s, {t1.next_since, 1, 10}).error() == error::cursor_mismatch);
    BOOST_TEST(s.template list<pos::table>(2)->size() == 1u);
    BOOST_TEST(s.template list<setting>(1)->size() == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(timestamp_since_never_skips_a_change, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    std::vector<timestamp> stamps;
    for (int i = 0; i < 50; ++i) stamps.push_back(s.create(named("P" + std::to_string(i)))->change.committed_at);
    // Every commit timestamp is distinct, so "max updated_at seen" is exact.
    for (std::size_t i = 1; i < stamps.size(); ++i) BOOST_REQUIRE(stamps[i - 1] < stamps[i]);
    for (std::size_t i = 0; i < stamps.size(); ++i) {
        auto p = pull_ok<product>(s, format_timestamp(stamps[i]));
        BOOST_REQUIRE_EQUAL(p.page.changes.size(), stamps.size() - i - 1);
    }
    // Between two commits, and with another offset: the later one is included.
    const timestamp mid{stamps[9].micros + (stamps[10].micros - stamps[9].micros) / 2};
    BOOST_TEST(pull_ok<product>(s, format_timestamp(mid)).page.changes.size() == 40u);
    // server_time is a safe since: a commit after it is seen.
    auto now = pull_ok<product>(s, "");
    const auto later = s.create(named("late"));
    auto p = pull_ok<product>(s, format_timestamp(now.page.server_time));
    BOOST_REQUIRE_EQUAL(p.page.changes.size(), 1u);
    BOOST_TEST(p.page.changes[0].record->value.id == later->change.id);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_since_in_the_future_is_refused_rather_than_trusted, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    (void)s.create(named("A"));
    BOOST_TEST(pull<product>(s, {"2999-01-01T00:00:00Z", {}, 10}).error() == error::since_in_future);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_since_and_limits_are_clear_errors, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    (void)s.create(named("A"));
    BOOST_TEST(pull<product>(s, {"garbage", {}, 10}).error() == error::bad_cursor);
    BOOST_TEST(pull<product>(s, {"2025-13-45T00:00:00Z", {}, 10}).error() == error::bad_timestamp);
    BOOST_TEST(pull<product>(s, {"", {}, 0}).error() == error::bad_limit);
    BOOST_TEST(pull<product>(s, {"", {}, 10001}).error() == error::bad_limit);
    // A well-formed cursor for another type, or ahead of the store.
    auto cat = pull_ok<pos::category>(s, "");
    BOOST_TEST(pull<product>(s, {cat.next_since, {}, 10}).error() == error::cursor_mismatch);
    const auto ahead = encode_cursor({s.epoch(), 1000, 1000, cursor_tag("product"), std::nullopt});
    BOOST_TEST(pull<product>(s, {ahead, {}, 10}).error() == error::bad_cursor);
}

BOOST_AUTO_TEST_CASE(a_restarted_store_sends_old_cursors_to_resync)
{
    memory::server_store<pos::entities> before;
    (void)before.create(named("A"));
    auto p = pull_ok<product>(before, "");
    memory::server_store<pos::entities> after; // a new in-memory server: another epoch
    (void)after.create(named("A"));
    BOOST_TEST(pull<product>(after, {p.next_since, {}, 10}).error() == error::resync_required);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(purged_tombstones_make_older_cursors_resync_that_type_only, B, backends::all)
{
    B backend;
    auto& s = backend.server(std::chrono::hours(1));
    auto a = s.create(named("A"));
    (void)s.create(pos::category{});
    auto old_products = pull_ok<product>(s, "");
    auto old_categories = pull_ok<pos::category>(s, "");
    auto del = s.template remove<product>(a->change.id);
    (void)s.create(named("B"));
    (void)s.purge(timestamp{del->change.committed_at.micros + 1});
    auto r = pull<product>(s, {old_products.next_since, {}, 10});
    BOOST_TEST(r.error() == error::resync_required);
    BOOST_TEST(pull<product>(s, {format_timestamp(old_products.page.server_time), {}, 10}).error()
               == error::resync_required);
    // Categories lost no tombstone: their old cursor is still good.
    BOOST_TEST(pull<pos::category>(s, {old_categories.next_since, {}, 10}).has_value());
    // From the beginning works, and reports the horizon.
    auto fresh = pull_ok<product>(s, "");
    BOOST_TEST(fresh.page.changes.size() == 1u);
    BOOST_TEST(fresh.page.retention_horizon.micros == del->change.committed_at.micros + 1);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(log_stats_count_the_entries_kept_and_the_purge_horizon, B, backends::all)
{
    B backend;
    auto& s = backend.server(std::chrono::hours(1));
    auto empty = s.log_stats();
    BOOST_TEST_REQUIRE(empty.has_value());
    BOOST_TEST(empty->entries == 0u);
    BOOST_TEST(empty->horizon.micros == 0);
    auto a = s.create(named("A"));
    auto b = s.create(named("B"));
    (void)s.create(pos::category{});
    (void)s.template update<product>(a->change.id, a->record->value, member_set{}); // a noop logs nothing
    (void)s.template remove<product>(b->change.id);
    auto full = s.log_stats();
    BOOST_TEST_REQUIRE(full.has_value());
    BOOST_TEST(full->entries == 4u);
    BOOST_TEST(full->high_water == *s.high_water());
    // Purging up to just after the second create leaves the category and the delete.
    (void)s.purge(timestamp{b->change.committed_at.micros + 1});
    auto purged = s.log_stats();
    BOOST_TEST_REQUIRE(purged.has_value());
    BOOST_TEST(purged->entries == 2u);
    BOOST_TEST(purged->high_water == full->high_water);
    BOOST_TEST(purged->horizon.micros == b->change.committed_at.micros + 1);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(check_names_the_types_that_changed_for_a_view, B, backends::all)
{
    B backend;
    auto& s = backend.server();
    auto start = check(s, "", 1);
    BOOST_REQUIRE(start.has_value());
    BOOST_TEST(start->changed.types.empty());
    (void)s.create(named("A"));
    (void)s.create(table_of(2, "other store's table"));
    auto after = check(s, start->next_since, 1);
    BOOST_REQUIRE(after.has_value());
    BOOST_TEST(after->changed.types == std::vector<std::string_view>{"product"}, boost::test_tools::per_element());
    auto store2 = check(s, "", 2);
    BOOST_TEST(store2->changed.types == (std::vector<std::string_view>{"product", "table"}), boost::test_tools::per_element());
    // Nothing new: nothing named; a store-1 check cursor is not a store-2 one.
    BOOST_TEST(check(s, after->next_since, 1)->changed.types.empty());
    BOOST_TEST(check(s, after->next_since, 2).error() == error::cursor_mismatch);
    // A pull cursor is not a check cursor, and a timestamp works too.
    BOOST_TEST(check(s, pull_ok<product>(s, "").next_since, 1).error() == error::cursor_mismatch);
    auto by_time = check(s, format_timestamp(after->changed.server_time), 1);
    BOOST_REQUIRE(by_time.has_value());
    BOOST_TEST(by_time->changed.types.empty());
    BOOST_TEST(check(s, "nonsense", 1).error() == error::bad_cursor);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_server_store_test
