// The README's five-minute example, compiled and checked so it cannot drift.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync.hpp>
#include <incsync/sqlite/client_store.hpp>
#include <incsync/sqlite/server_store.hpp>

#include <boost/test/unit_test.hpp>

#include "temp_dir.hpp"

#include <filesystem>
#include <iostream>

namespace unit_readme_snippet_test {

namespace pos = incsync::pos;

BOOST_AUTO_TEST_CASE(readme_five_minute_example)
{
    incsync::memory::server_store<pos::entities> server;   // the server's data
    incsync::memory::client_store<pos::entities> register1; // a register's replica

    pos::product espresso;
    espresso.name = "Espresso";
    espresso.price_cents = 250;
    auto created = server.create(espresso);          // version 1, logged, timestamped

    incsync::replicate_all(server, register1, /*store_id=*/1); // initial sync

    pos::product price;
    price.price_cents = 270;
    server.update(created->change.id, price,         // change one member
                  incsync::member_set{}.set(incsync::member_index<pos::product>("price_cents")));

    auto page = incsync::pull<pos::product>(server, {
        (*register1.state<pos::product>())->cursor,   // the register's cursor
        1, 100});
    // page->page.changes[0].changed == {price_cents, updated_at}
    BOOST_REQUIRE(page.has_value());
    BOOST_REQUIRE_EQUAL(page->page.changes.size(), 1u);
    BOOST_TEST(page->page.changes[0].changed
               == incsync::member_set{}
                      .set(incsync::member_index<pos::product>("price_cents"))
                      .set(incsync::member_index<pos::product>("updated_at")));
}

/// The README's "Durable stores" snippet, verbatim between the markers.
int readme_durable_stores()
{
    // ---- README: "Durable stores" ----
    // Records, change log and epoch in one file; each write one transaction.
    auto server = incsync::sqlite::server_store<pos::entities>::open("pos.sqlite3");
    if (!server) {            // e.g. "pos.sqlite3 is not an incsync server store: it is ..."
        std::cerr << server.error().message() << '\n';
        return 1;
    }
    // A register's replica: read from memory, written through to the file.
    auto register1 = incsync::sqlite::client_store<pos::entities>::open("register1.sqlite3");

    pos::product espresso;
    espresso.name = "Espresso";
    (*server)->create(espresso);                                   // on disk when it returns
    incsync::replicate_all(**server, **register1, /*store_id=*/1); // each page with its cursor
    // ---- end of the README snippet ----
    return (*register1)->size<pos::product>() == 1 ? 0 : 2;
}

BOOST_AUTO_TEST_CASE(readme_durable_stores_example)
{
    backends::temp_dir dir;
    const auto before = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    const int status = readme_durable_stores();
    std::filesystem::current_path(before);
    BOOST_TEST(status == 0);
    // Both files are there and reopen with the data.
    auto server = incsync::sqlite::server_store<pos::entities>::open(dir.file("pos.sqlite3"));
    BOOST_REQUIRE(server.has_value());
    BOOST_TEST(*(*server)->high_water() == 1u);
    auto replica = incsync::sqlite::client_store<pos::entities>::open(dir.file("register1.sqlite3"));
    BOOST_REQUIRE(replica.has_value());
    BOOST_TEST((*replica)->size<pos::product>() == 1u);
}

} // namespace unit_readme_snippet_test
