#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// What only a durable store has to get right: reopening, schema upgrades,
// files that are not ours, storage errors, and commits still in flight.
// The invariant tests run against this store too (server_store_suite,
// conformance_kit, replicate_suite); process kills are in the integration
// tests (durability_suite).
#include <incsync/pos/entities.hpp>
#include <incsync/pull.hpp>
#include <incsync/server/handler.hpp>
#include <incsync/sqlite/client_store.hpp>
#include <incsync/sqlite/image_repository.hpp>
#include <incsync/sqlite/server_store.hpp>

#include <boost/test/unit_test.hpp>

#include "../temp_dir.hpp"
#include "../fixtures.hpp"
#include "fault_vfs.hpp"

#include <fstream>
#include <thread>

namespace unit_sqlite_server_store_test {

using namespace incsync;
using fixtures::named;
using pos::product;
using store_t = sqlite::server_store<pos::entities>;

std::unique_ptr<store_t> open_ok(const std::string& path, sqlite::server_store_options o = {})
{
    auto s = store_t::open(path, std::move(o));
    BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? std::string() : s.error().message()));
    return std::move(*s);
}

std::string open_error(const std::string& path, sqlite::server_store_options o = {})
{
    auto s = store_t::open(path, std::move(o));
    BOOST_REQUIRE(!s.has_value());
    BOOST_TEST((s.error() == error::storage_failure));
    BOOST_TEST_MESSAGE(path << ": " << s.error().message());
    return s.error().message();
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// The change log is 1..high_water with no version missing.
void check_log_has_no_gap(const store_t& s)
{
    auto log = s.log_since(0, max_page_limit);
    BOOST_REQUIRE(log.has_value());
    for (std::size_t i = 0; i < log->size(); ++i) BOOST_TEST((*log)[i].version == i + 1);
    BOOST_TEST(log->size() == *s.high_water());
}

BOOST_AUTO_TEST_SUITE(sqlite_server_store)

BOOST_AUTO_TEST_CASE(a_reopened_store_keeps_records_cursors_versions_and_purges)
{
    backends::temp_dir dir;
    const auto path = dir.file("pos.sqlite3");
    std::string cursor, purged_cursor;
    std::uint64_t epoch = 0;
    timestamp last;
    std::int64_t deleted_id = 0;
    {
        auto s = open_ok(path);
        epoch = s->epoch();
        auto a = s->create(named("A"));
        deleted_id = a->change.id;
        purged_cursor = pull<product>(*s, {"", {}, 10})->next_since;
        (void)s->create(named("B"));
        auto del = s->remove<product>(deleted_id);
        cursor = pull<product>(*s, {"", {}, 10})->next_since;
        (void)s->create(named("C"));
        last = s->create(named("D"))->change.committed_at;
        BOOST_REQUIRE(s->purge(timestamp{del->change.committed_at.micros + 1}).has_value());
    }
    auto s = open_ok(path);
    BOOST_TEST(s->epoch() == epoch);
    BOOST_TEST(*s->high_water() == 5u);
    // The cursor survives the restart: only what came after it.
    auto p = pull<product>(*s, {cursor, {}, 10});
    BOOST_REQUIRE(p.has_value());
    BOOST_REQUIRE_EQUAL(p->page.changes.size(), 2u);
    BOOST_TEST(p->page.changes[0].record->value.name == "C");
    // A cursor from before the purged tombstone still has to resync.
    BOOST_TEST(pull<product>(*s, {purged_cursor, {}, 10}).error() == error::resync_required);
    // Versions and timestamps go on from where they were; ids are not reused.
    auto e = s->create(named("E"));
    BOOST_TEST(e->change.version == 6u);
    BOOST_TEST(e->change.committed_at > last);
    BOOST_TEST(e->change.id == 5);
    BOOST_TEST(s->get<product>(deleted_id).error() == error::not_found);
    BOOST_TEST(s->list<product>(std::nullopt)->size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_store_of_an_older_schema_upgrades_when_opened)
{
    backends::temp_dir dir;
    const auto path = dir.file("v1.sqlite3");
    {
        // A file as incsync's first schema wrote it, with one product.
        auto c = sqlite::detail::connection::open(path);
        BOOST_REQUIRE(c.has_value());
        BOOST_REQUIRE(sqlite::detail::migrate(*c, sqlite::detail::server_schema, path, 1).has_value());
        const timestamp at{timestamp::now().micros - 3'600'000'000}; // an hour ago: inside retention
        const std::string t = std::to_string(at.micros);
        const std::string sql = "UPDATE incsync_state SET epoch = 77, high_water = 1, last_commit_at = " + t + ";"
            "INSERT INTO incsync_types (type, next_id) VALUES ('product', 2);"
            "INSERT INTO incsync_records VALUES ('product', 1, -9223372036854775808, 1, 1, NULL,"
            " '{\"id\":1,\"updated_at\":\"" + format_timestamp(at) + "\",\"name\":\"Old\",\"sku\":\"\","
            "\"price_cents\":250,\"category_id\":null,\"image_url\":null,\"image_version\":0,\"is_active\":true}', x'');"
            "INSERT INTO incsync_change_log VALUES (1, 'product', 1, NULL, 'create', 511, " + t + ");";
        BOOST_REQUIRE(c->exec(sql.c_str(), "seed a v1 file").has_value());
        BOOST_TEST(c->query_integer("PRAGMA user_version", "version").value() == 1);
    }
    auto s = open_ok(path);
    auto c = sqlite::detail::connection::open(path);
    BOOST_TEST(c->query_integer("PRAGMA user_version", "version").value() == sqlite::detail::server_schema.latest());
    BOOST_TEST(c->query_integer("SELECT count(*) FROM sqlite_schema WHERE name = 'incsync_images'", "tables").value() == 1);
    BOOST_TEST(s->epoch() == 77u);
    auto old = s->get<product>(1);
    BOOST_REQUIRE_MESSAGE(old.has_value(), (old ? std::string() : old.error().message()));
    BOOST_TEST((*old)->value.name == "Old");
    BOOST_TEST((*old)->value.price_cents == 250);
    auto p = pull<product>(*s, {"", {}, 10});
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->page.changes.size() == 1u);
    auto next = s->create(named("New"));
    BOOST_TEST(next->change.version == 2u);
    BOOST_TEST(next->change.id == 2);
    check_log_has_no_gap(*s);
}

BOOST_AUTO_TEST_CASE(files_that_are_not_a_server_store_get_clear_errors)
{
    backends::temp_dir dir;
    {
        std::ofstream(dir.file("notes.txt")) << std::string(8192, 'x');
    }
    BOOST_TEST(contains(open_error(dir.file("notes.txt")), "not a database"));

    // A register's replica is not a server store, nor the reverse.
    {
        auto replica = sqlite::client_store<pos::entities>::open(dir.file("register.sqlite3"));
        BOOST_REQUIRE(replica.has_value());
    }
    BOOST_TEST(contains(open_error(dir.file("register.sqlite3")), "it is an incsync client replica"));
    (void)open_ok(dir.file("server.sqlite3"));
    auto as_replica = sqlite::client_store<pos::entities>::open(dir.file("server.sqlite3"));
    BOOST_REQUIRE(!as_replica.has_value());
    BOOST_TEST(contains(as_replica.error().message(), "it is an incsync server store"));

    // Another application's database is left alone.
    {
        auto c = sqlite::detail::connection::open(dir.file("other.sqlite3"));
        BOOST_REQUIRE(c->exec("CREATE TABLE customers (id INTEGER)", "create").has_value());
    }
    BOOST_TEST(contains(open_error(dir.file("other.sqlite3")), "another application's"));

    // A file from a newer incsync is not downgraded.
    {
        auto c = sqlite::detail::connection::open(dir.file("newer.sqlite3"));
        const std::string sql = "CREATE TABLE t (x); PRAGMA user_version = 99; PRAGMA application_id = "
                              + std::to_string(sqlite::detail::server_application_id);
        BOOST_REQUIRE(c->exec(sql.c_str(), "stamp").has_value());
    }
    BOOST_TEST(contains(open_error(dir.file("newer.sqlite3")), "newer incsync"));

    BOOST_TEST(contains(open_error(dir.file("missing/dir/pos.sqlite3")), "cannot open"));
    BOOST_TEST(contains(open_error(":memory:"), "needs a file"));
}

BOOST_AUTO_TEST_CASE(a_corrupt_file_is_refused_at_open_or_reported_never_silently_read)
{
    backends::temp_dir dir;
    const auto path = dir.file("pos.sqlite3");
    {
        auto s = open_ok(path);
        for (int i = 0; i < 300; ++i) (void)s->create(named("P" + std::to_string(i)));
    }
    {
        // Overwrite the middle of the file (records' b-tree pages) with garbage.
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(0, std::ios::end);
        const auto size = static_cast<std::streamoff>(f.tellp());
        BOOST_REQUIRE(size > 16384);
        f.seekp(size / 2);
        const std::string garbage(8192, '\x5a');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    auto s = store_t::open(path);
    if (!s) {
        BOOST_TEST((s.error() == error::storage_failure));
        return;
    }
    // Opened (the damage is not in the pages read at open): reading the
    // damaged pages is an error, never a wrong answer.
    auto all = (*s)->list<product>(std::nullopt);
    auto page = pull<product>(**s, {"", {}, 1000});
    BOOST_TEST(!(all.has_value() && all->size() == 300u && page.has_value() && page->page.changes.size() == 300u));
    if (!all) BOOST_TEST((all.error() == error::storage_failure));
    if (!page) BOOST_TEST((page.error() == error::storage_failure));
}

BOOST_AUTO_TEST_CASE(a_read_only_directory_is_a_clear_error_at_open)
{
    backends::temp_dir dir;
    std::filesystem::create_directory(dir.path() / "ro");
    // root ignores permission bits, but not the immutable attribute.
    const bool root = ::geteuid() == 0;
    const std::string ro = (dir.path() / "ro").string();
    if (root ? std::system(("chattr +i " + ro + " 2>/dev/null").c_str()) != 0
             : (std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec),
                false)) {
        BOOST_TEST_MESSAGE("skipped: cannot make a directory read-only here (chattr +i failed)");
        return;
    }
    const auto message = open_error(dir.file("ro/pos.sqlite3"));
    BOOST_TEST(contains(message, "cannot open"));
    if (root) (void)std::system(("chattr -i " + ro).c_str());
    else std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
}

BOOST_AUTO_TEST_CASE(a_full_disk_fails_the_write_and_loses_nothing)
{
    auto& faults = fault_vfs::install();
    backends::temp_dir dir;
    const auto path = dir.file("pos.sqlite3");
    {
        auto s = open_ok(path, {.vfs = fault_vfs::name});
        auto a = s->create(named("A"));
        BOOST_REQUIRE(a.has_value());
        faults.disk_full = true;
        auto b = s->create(named("B"));
        auto u = s->update(a->change.id, named("A2"), member_set{}.set(member_index<product>("name")));
        faults.disk_full = false;
        BOOST_REQUIRE(!b.has_value());
        BOOST_TEST((b.error() == error::storage_failure));
        BOOST_TEST(contains(b.error().message(), "full"));
        BOOST_TEST(!u.has_value());
        BOOST_TEST(*s->high_water() == 1u);
        BOOST_TEST(s->get<product>(a->change.id).value()->value.name == "A");
        // The disk has room again: the next write takes the next version.
        auto c = s->create(named("C"));
        BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message()));
        BOOST_TEST(c->change.version == 2u);
    }
    faults.reset();
    auto s = open_ok(path);
    BOOST_TEST(s->list<product>(std::nullopt)->size() == 2u);
    check_log_has_no_gap(*s);
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_a_500_error_to_the_admin_and_changes_nothing)
{
    namespace http = boost::beast::http;
    auto& faults = fault_vfs::install();
    backends::temp_dir dir;
    auto store = open_ok(dir.file("pos.sqlite3"), {.vfs = fault_vfs::name});
    auto images = sqlite::image_repository::open(dir.file("pos.sqlite3"), {.vfs = fault_vfs::name});
    BOOST_REQUIRE(images.has_value());
    server::handler_options o;
    o.tokens.add_admin("adm");
    o.images = *images;
    std::vector<std::string> logged;
    o.log = [&](std::string_view line) { logged.emplace_back(line); };
    server::handler<store_t> api(*store, std::move(o));
    auto call = [&](http::verb method, std::string target, std::string body) {
        server::request req{method, target, 11};
        req.set(http::field::authorization, "Bearer adm");
        req.body() = std::move(body);
        req.prepare_payload();
        return api.handle(req);
    };
    BOOST_TEST(call(http::verb::post, "/api/v1/products", R"({"name":"A"})").result_int() == 201u);
    faults.disk_full = true;
    auto refused = call(http::verb::post, "/api/v1/products", R"({"name":"B"})");
    auto image = call(http::verb::put, "/api/v1/products/1/image", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    faults.disk_full = false;
    BOOST_TEST(refused.result_int() == 500u);
    BOOST_TEST(refused.body() == R"({"error":{"code":"internal_error","message":"internal server error"}})");
    BOOST_TEST(image.result_int() == 500u);
    // The admin sees internal_error; the operator's log has the cause.
    BOOST_REQUIRE_EQUAL(logged.size(), 2u);
    BOOST_TEST(contains(logged[0], "internal error: storage failure"));
    BOOST_TEST(contains(logged[0], "database or disk is full"));
    BOOST_TEST(store->get<product>(1).value()->value.image_version == 0); // no version without its image
    BOOST_TEST(*store->high_water() == 1u);
    BOOST_TEST(call(http::verb::post, "/api/v1/products", R"({"name":"B"})").result_int() == 201u);
    faults.reset();
}

BOOST_AUTO_TEST_CASE(server_time_stays_below_a_commit_still_in_flight)
{
    // A commit has its timestamp before COMMIT returns (an fsync away). A
    // pull meanwhile must not hand out a server_time at or after it, or a
    // client sending that back as `since` would skip the commit.
    auto& faults = fault_vfs::install();
    backends::temp_dir dir;
    auto s = open_ok(dir.file("pos.sqlite3"), {.sync = sqlite::durability::full, .vfs = fault_vfs::name});
    (void)s->create(named("A"));
    faults.close_gate();
    result<commit<product>> b = error::not_found;
    std::thread writer([&] { b = s->create(named("B")); });
    BOOST_REQUIRE(faults.wait_for_held_sync());
    auto during = pull<product>(*s, {"", {}, 10});
    auto check_during = check(*s, "", std::nullopt);
    faults.open_gate();
    writer.join();
    faults.reset();
    BOOST_REQUIRE(b.has_value());
    BOOST_REQUIRE(during.has_value());
    BOOST_TEST(during->page.changes.size() == 1u); // B was not visible yet
    BOOST_TEST(during->page.server_time < b->change.committed_at);
    BOOST_TEST(check_during->changed.server_time < b->change.committed_at);
    auto after = pull<product>(*s, {format_timestamp(during->page.server_time), {}, 10});
    BOOST_REQUIRE(after.has_value());
    BOOST_REQUIRE_EQUAL(after->page.changes.size(), 1u);
    BOOST_TEST(after->page.changes[0].record->value.name == "B");
}

BOOST_AUTO_TEST_CASE(images_live_in_the_store_file_and_survive_a_restart)
{
    using namespace std::string_literals;
    auto& faults = fault_vfs::install();
    backends::temp_dir dir;
    const auto path = dir.file("pos.sqlite3");
    auto original = server::make_image("\x89PNG\r\n\x1a\noriginal"s);
    auto small = server::make_image("\x89PNG\r\n\x1a\nsmall"s);
    {
        auto store = open_ok(path);
        auto images = sqlite::image_repository::open(path, {.vfs = fault_vfs::name});
        BOOST_REQUIRE(images.has_value());
        auto& repo = **images;
        BOOST_TEST(!repo.get("product", 1, "").value());
        BOOST_REQUIRE(repo.put("product", 1, "", original).has_value());
        BOOST_TEST(repo.get("product", 1, "110").value()->etag == original->etag); // falls back to the original
        BOOST_REQUIRE(repo.put("product", 1, "110", small).has_value());
        BOOST_TEST(repo.get("product", 1, "110").value()->bytes == small->bytes);
        BOOST_REQUIRE(repo.put("product", 2, "", small).has_value());
        BOOST_REQUIRE(repo.put("product", 3, "", small).has_value());
        BOOST_REQUIRE(repo.remove("product", 3).has_value());
        faults.disk_full = true;
        auto failed = repo.put("product", 2, "", original);
        faults.disk_full = false;
        BOOST_TEST(!failed.has_value());
        BOOST_TEST(repo.get("product", 2, "").value()->bytes == small->bytes); // the old one, whole
    }
    faults.reset();
    auto images = sqlite::image_repository::open(path);
    BOOST_REQUIRE(images.has_value());
    auto& repo = **images;
    auto img = repo.get("product", 1, "").value();
    BOOST_REQUIRE(img);
    BOOST_TEST(img->bytes == original->bytes);
    BOOST_TEST(img->content_type == "image/png");
    BOOST_TEST(img->etag == original->etag);
    BOOST_TEST(repo.get("product", 1, "110").value()->bytes == small->bytes);
    BOOST_TEST(!repo.get("product", 3, "").value());
    // A new original drops the sizes made from the old one.
    BOOST_REQUIRE(repo.put("product", 1, "", server::make_image("\x89PNG\r\n\x1a\nnew"s)).has_value());
    BOOST_TEST(repo.get("product", 1, "110").value()->bytes != small->bytes);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_sqlite_server_store_test
