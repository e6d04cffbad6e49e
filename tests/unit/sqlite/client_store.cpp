#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The SQLite replica across restarts and storage errors. Its behaviour as a
// replica is tested with the memory one's (client_store_suite).
#include <incsync/client/loopback_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/sqlite/client_store.hpp>

#include <boost/test/unit_test.hpp>

#include "../temp_dir.hpp"
#include "../wait.hpp"
#include "fault_vfs.hpp"

#include <incsync/hub.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/server/handler.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace unit_sqlite_client_store_test {

using namespace incsync;
using pos::product;
using replica_t = sqlite::client_store<pos::entities>;

std::unique_ptr<replica_t> open_ok(const std::string& path, sqlite::client_store_options o = {})
{
    auto r = replica_t::open(path, std::move(o));
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message()));
    return std::move(*r);
}

product item(std::int64_t id, std::int64_t price, std::string name = "")
{
    product p;
    p.id = id;
    p.name = name.empty() ? "P" + std::to_string(id) : std::move(name);
    p.price_cents = price;
    return p;
}

sync_state state_at(version_t v) { return {"product", timestamp{1700000000000000 + static_cast<std::int64_t>(v)}, v, "c" + std::to_string(v)}; }

BOOST_AUTO_TEST_SUITE(sqlite_client_store)

BOOST_AUTO_TEST_CASE(a_reopened_replica_has_its_records_state_local_edits_and_images)
{
    backends::temp_dir dir;
    const auto path = dir.file("register.sqlite3");
    const stored_image picture{3, "\"e3\"", "image/png", std::string("\x89PNG\r\n\x1a\n\0\1", 10)};
    {
        auto r = open_ok(path);
        BOOST_REQUIRE(r->apply<product>({false, {item(1, 10), item(2, 20), item(3, 30)}, {}, state_at(3)}).has_value());
        BOOST_REQUIRE(r->apply<product>({false, {item(2, 25)}, {3}, state_at(5)}).has_value());
        BOOST_REQUIRE(r->edit(item(1, 10, "Renamed at the till")).has_value());
        BOOST_REQUIRE(r->put_image("product", 1, picture).has_value());
        BOOST_REQUIRE(r->put_image("product", 2, picture).has_value());
        BOOST_REQUIRE(r->remove_image("product", 2).has_value());
    }
    auto r = open_ok(path);
    auto all = r->all<product>().value();
    BOOST_REQUIRE_EQUAL(all.size(), 2u);
    BOOST_TEST(all[0].name == "Renamed at the till");
    BOOST_TEST(all[1].price_cents == 25);
    BOOST_TEST((r->state<product>().value() == state_at(5)));
    BOOST_TEST(!r->state<pos::category>().value());
    BOOST_TEST(r->local_edits<product>() == 1u);
    BOOST_TEST((r->image("product", 1).value() == picture));
    BOOST_TEST(!r->image("product", 2).value());
    BOOST_TEST(r->image_count().value() == 1u);
    // The edit's base survived: the server changing the price keeps the local name.
    BOOST_REQUIRE(r->apply<product>({false, {item(1, 99)}, {}, state_at(6)}).has_value());
    BOOST_TEST(r->get<product>(1).value()->name == "Renamed at the till");
    BOOST_TEST(r->get<product>(1).value()->price_cents == 99);
    // ...and so does the merge, once more across a restart.
    r.reset();
    r = open_ok(path);
    BOOST_TEST(r->get<product>(1).value()->price_cents == 99);
    BOOST_TEST(r->get<product>(1).value()->name == "Renamed at the till");
    // A reset drops the type in the file too.
    BOOST_REQUIRE(r->apply<product>({true, {item(7, 70)}, {}, state_at(9)}).has_value());
    r.reset();
    r = open_ok(path);
    BOOST_TEST(r->size<product>() == 1u);
    BOOST_TEST(r->local_edits<product>() == 0u);
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_the_replica_as_it_was_in_memory_and_on_disk)
{
    auto& faults = fault_vfs::install();
    backends::temp_dir dir;
    const auto path = dir.file("register.sqlite3");
    {
        auto r = open_ok(path, {.vfs = fault_vfs::name});
        BOOST_REQUIRE(r->apply<product>({false, {item(1, 10), item(2, 20)}, {}, state_at(2)}).has_value());
        faults.disk_full = true;
        auto failed = r->apply<product>({false, {item(1, 11), item(3, 30)}, {2}, state_at(4)});
        auto edit = r->edit(item(1, 12));
        auto image = r->put_image("product", 1, {1, "\"x\"", "image/png", "x"});
        faults.disk_full = false;
        BOOST_REQUIRE(!failed.has_value());
        BOOST_TEST(failed.error().message().find("full") != std::string::npos);
        BOOST_TEST(!edit.has_value());
        BOOST_TEST(!image.has_value());
        // Readers still see the last good page with its own cursor.
        BOOST_TEST(r->size<product>() == 2u);
        BOOST_TEST(r->get<product>(1).value()->price_cents == 10);
        BOOST_TEST(r->state<product>().value()->sync_version == 2u);
        BOOST_TEST(r->local_edits<product>() == 0u);
        // Space again: the same page applies.
        BOOST_REQUIRE(r->apply<product>({false, {item(1, 11), item(3, 30)}, {2}, state_at(4)}).has_value());
    }
    faults.reset();
    auto r = open_ok(path);
    BOOST_TEST(r->size<product>() == 2u);
    BOOST_TEST(r->get<product>(1).value()->price_cents == 11);
    BOOST_TEST(r->state<product>().value()->sync_version == 4u);
}

BOOST_AUTO_TEST_CASE(an_in_memory_replica_needs_no_file)
{
    auto r = open_ok(":memory:");
    BOOST_REQUIRE(r->apply<product>({false, {item(1, 10)}, {}, state_at(1)}).has_value());
    BOOST_REQUIRE(r->put_image("product", 1, {1, "\"x\"", "image/png", "bytes"}).has_value());
    BOOST_TEST(r->image("product", 1).value()->bytes == "bytes");
    BOOST_TEST(r->size<product>() == 1u);
}

BOOST_AUTO_TEST_CASE(a_record_that_no_longer_decodes_is_an_error_at_open)
{
    backends::temp_dir dir;
    const auto path = dir.file("register.sqlite3");
    {
        auto r = open_ok(path);
        BOOST_REQUIRE(r->apply<product>({false, {item(1, 10)}, {}, state_at(1)}).has_value());
    }
    {
        auto c = sqlite::detail::connection::open(path);
        BOOST_REQUIRE(c->exec("UPDATE incsync_replica SET body = '{\"id\":1,\"price_cents\":\"ten\"}'", "damage").has_value());
    }
    auto r = replica_t::open(path);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("stored product 1 does not decode") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_full_disk_shows_in_the_client_status_and_sync_resumes_when_space_returns)
{
    // The sync client over this replica: a write that fails is the
    // `local_store` error of the bottom bar, never an exception, and the
    // retry after the disk has room completes the sync.
    auto& faults = fault_vfs::install();
    backends::temp_dir dir;
    using server_t = memory::server_store<pos::entities>;
    server_t store;
    notification_hub hub;
    server::handler_options ho;
    ho.tokens.add_register("till-1", 1);
    ho.on_commit = [&hub](const change& c) { hub.publish(c); };
    server::handler<server_t> api(store, std::move(ho));
    for (int i = 0; i < 5; ++i) (void)store.create(item(0, 10 * i));
    auto replica = open_ok(dir.file("register.sqlite3"), {.vfs = fault_vfs::name});
    boost::asio::io_context ioc;
    auto work = boost::asio::make_work_guard(ioc);
    std::thread thread([&] { ioc.run(); });
    incsync::client::loopback_transport<server_t> transport(api, hub);
    incsync::client::client_options o;
    o.token = "till-1";
    o.store_id = 1;
    o.retry_initial = std::chrono::milliseconds(20);
    o.retry_max = std::chrono::milliseconds(100);
    o.images = false;
    {
        incsync::client::sync_client<replica_t, incsync::client::loopback_transport<server_t>> client(
            ioc.get_executor(), *replica, transport, o);
        faults.disk_full = true;
        client.start();
        auto product_error = [&] {
            for (const auto& t : client.status().types)
                if (t.entity_type == "product" && t.error) return t.error->kind;
            return incsync::client::error_kind::none;
        };
        BOOST_TEST(testwait::wait_until([&] { return product_error() == incsync::client::error_kind::local_store; },
                                        std::chrono::seconds(10)));
        BOOST_TEST(replica->size<product>() == 0u);
        BOOST_TEST(!replica->state<product>().value());
        faults.disk_full = false;
        BOOST_TEST(testwait::wait_until([&] { return replica->size<product>() == 5u && !client.status().has_error(); },
                                        std::chrono::seconds(10)));
        client.stop();
    }
    faults.reset();
    work.reset();
    thread.join();
    replica.reset();
    BOOST_TEST(open_ok(dir.file("register.sqlite3"))->size<product>() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_sqlite_client_store_test
