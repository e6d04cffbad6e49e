// The README's five-minute example, compiled and checked so it cannot drift.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync.hpp>

#include <boost/test/unit_test.hpp>

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
