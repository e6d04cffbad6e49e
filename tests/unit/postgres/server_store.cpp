#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// What only the PostgreSQL store has to show: several instances on one store
// (the shared suites in ../server_store.cpp run it as a single backend).
#include <incsync/pos/entities.hpp>
#include <incsync/postgres/image_repository.hpp>
#include <incsync/postgres/server_store.hpp>

#include <boost/test/unit_test.hpp>

#include "../../support/postgres_server.hpp"
#include "../fixtures.hpp"

#include <atomic>
#include <thread>
#include <vector>

namespace unit_postgres_server_store_test {

using namespace incsync;
using namespace std::string_literals;
using store_t = postgres::server_store<pos::entities>;

/// A fresh schema name per test.
std::string fresh_schema()
{
    static std::atomic<int> n{0};
    return "instances_" + std::to_string(n++);
}

std::unique_ptr<store_t> open_store(const std::string& schema)
{
    auto s = store_t::open(test_support::postgres_server::shared().conninfo(), {.schema = schema, .idle_connections = 4});
    BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? std::string() : s.error().message()));
    return std::move(*s);
}

using fixtures::named;

BOOST_AUTO_TEST_SUITE(postgres_server_store_suite)

BOOST_AUTO_TEST_CASE(two_instances_share_versions_cursors_and_records)
{
    const auto schema = fresh_schema();
    auto a = open_store(schema);
    auto b = open_store(schema);
    BOOST_TEST(a->epoch() == b->epoch()); // a cursor from one is good on the other

    auto created = a->create(named("A"));
    BOOST_REQUIRE(created.has_value());
    auto updated = b->update(created->change.id, named("B"), member_set{}.set(member_index<pos::product>("name")));
    BOOST_REQUIRE(updated.has_value());
    BOOST_TEST(created->change.version == 1u);
    BOOST_TEST(updated->change.version == 2u);
    BOOST_TEST(created->change.committed_at < updated->change.committed_at);

    auto page = a->changes<pos::product>({.after = 1, .base = 1, .store_id = {}, .limit = 100});
    BOOST_REQUIRE(page.has_value());
    BOOST_REQUIRE_EQUAL(page->changes.size(), 1u);
    BOOST_TEST(page->changes[0].record->value.name == "B");
    BOOST_TEST(page->next == 2u);
    BOOST_TEST(*a->high_water() == 2u);
    // server_time is the last commit either instance made: safe as a since.
    BOOST_TEST(page->server_time == updated->change.committed_at);
    BOOST_TEST(*b->version_at<pos::product>(page->server_time) == 2u);
}

BOOST_AUTO_TEST_CASE(writers_on_two_instances_get_gapless_versions_in_commit_order)
{
    const auto schema = fresh_schema();
    auto a = open_store(schema);
    auto b = open_store(schema);
    constexpr int threads = 6, writes = 60;
    std::atomic<int> failures{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t)
        writers.emplace_back([&, t] {
            auto& store = t % 2 ? *a : *b;
            for (int i = 0; i < writes; ++i)
                if (!store.create(named("p" + std::to_string(t) + "-" + std::to_string(i)))) ++failures;
        });
    for (auto& w : writers) w.join();
    BOOST_TEST(failures.load() == 0);
    auto log = a->log_since(0);
    BOOST_REQUIRE(log.has_value());
    BOOST_REQUIRE_EQUAL(log->size(), static_cast<std::size_t>(threads * writes));
    for (std::size_t i = 0; i < log->size(); ++i) {
        BOOST_TEST((*log)[i].version == i + 1);
        if (i > 0) BOOST_TEST((*log)[i - 1].committed_at < (*log)[i].committed_at);
    }
    BOOST_TEST(a->log_stats()->entries == static_cast<std::uint64_t>(threads * writes));
}

BOOST_AUTO_TEST_CASE(a_newer_schema_and_an_unreachable_server_are_clear_errors)
{
    auto& pg = test_support::postgres_server::shared();
    const auto schema = fresh_schema();
    (void)open_store(schema);
    BOOST_REQUIRE(pg.psql("UPDATE " + schema + ".incsync_schema SET version = 99") == 0);
    auto newer = store_t::open(pg.conninfo(), {.schema = schema});
    BOOST_REQUIRE(!newer.has_value());
    BOOST_TEST(newer.error().message().find("newer than this program") != std::string::npos, newer.error().message());

    const auto port = test_support::free_loopback_port();
    auto refused = store_t::open("postgresql://x:secret@127.0.0.1:" + std::to_string(port) + "/db");
    BOOST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error() == error::storage_failure);
    BOOST_TEST(refused.error().message().find(std::to_string(port)) != std::string::npos, refused.error().message());
    BOOST_TEST(refused.error().message().find("secret") == std::string::npos, refused.error().message());
}

BOOST_AUTO_TEST_CASE(images_are_shared_by_every_instance)
{
    auto& pg = test_support::postgres_server::shared();
    const auto schema = fresh_schema();
    auto a = postgres::image_repository::open(pg.conninfo(), {.schema = schema});
    auto b = postgres::image_repository::open(pg.conninfo(), {.schema = schema});
    BOOST_REQUIRE(a.has_value() && b.has_value());
    auto original = server::make_image("\x89PNG\r\n\x1a\noriginal\0bytes"s);
    auto small = server::make_image("\x89PNG\r\n\x1a\nsmall"s);
    BOOST_REQUIRE((*a)->put("product", 1, "", original).has_value());
    BOOST_TEST((*b)->get("product", 1, "110").value()->bytes == original->bytes); // falls back to the original
    BOOST_TEST((*b)->get("product", 1, "").value()->etag == original->etag);
    BOOST_REQUIRE((*b)->put("product", 1, "110", small).has_value());
    BOOST_TEST((*a)->get("product", 1, "110").value()->bytes == small->bytes);
    BOOST_REQUIRE((*a)->put("product", 1, "", server::make_image("\x89PNG\r\n\x1a\nnew"s)).has_value());
    BOOST_TEST((*b)->get("product", 1, "110").value()->bytes != small->bytes); // a new original drops old sizes
    BOOST_REQUIRE((*b)->remove("product", 1).has_value());
    BOOST_TEST(!(*a)->get("product", 1, "").value());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_postgres_server_store_test
