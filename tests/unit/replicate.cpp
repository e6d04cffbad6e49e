#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/pos/entities.hpp>
#include <incsync/replicate.hpp>

#include <boost/test/unit_test.hpp>

#include "backends.hpp"

namespace unit_replicate_test {

using namespace incsync;

BOOST_AUTO_TEST_SUITE(replicate_suite)

BOOST_AUTO_TEST_CASE_TEMPLATE(pages_until_caught_up_and_resumes_from_the_cursor, B, backends::all)
{
    B backend;
    auto& server = backend.server();
    auto& replica = backend.client();
    for (int i = 0; i < 25; ++i) {
        pos::product p;
        p.name = "P" + std::to_string(i);
        (void)server.create(p);
    }
    auto first = replicate<pos::product>(server, replica, 1, 10);
    BOOST_REQUIRE(first.has_value());
    BOOST_TEST(first->pages == 3u);
    BOOST_TEST(first->upserts == 25u);
    BOOST_TEST(replica.template size<pos::product>() == 25u);

    (void)server.template remove<pos::product>(3);
    auto second = replicate<pos::product>(server, replica, 1, 10);
    BOOST_TEST(second->upserts == 0u);
    BOOST_TEST(second->deletes == 1u);
    BOOST_TEST(!replica.template get<pos::product>(3).value());
    BOOST_TEST((*replica.template state<pos::product>())->sync_version == *server.high_water());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(expired_cursor_reloads_the_type_from_scratch, B, backends::all)
{
    B backend;
    auto& server = backend.server();
    auto& replica = backend.client();
    pos::product p;
    p.name = "A";
    auto a = server.create(p);
    (void)server.create(p);
    (void)replicate_all(server, replica, 1);
    auto del = server.template remove<pos::product>(a->change.id);
    (void)server.purge(timestamp{del->change.committed_at.micros + 1});
    auto r = replicate<pos::product>(server, replica, 1);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->resynced);
    BOOST_TEST(replica.template size<pos::product>() == 1u); // the deleted record is gone
}

BOOST_AUTO_TEST_CASE_TEMPLATE(errors_are_returned_not_thrown, B, backends::all)
{
    B backend;
    auto& server = backend.server();
    auto& replica = backend.client();
    // A replica whose cursor is garbage (e.g. a corrupted local store).
    (void)replica.template apply<pos::product>({false, {}, {}, {"product", {}, 0, "v1garbage"}});
    auto r = replicate<pos::product>(server, replica, 1);
    BOOST_TEST(r.error() == error::bad_cursor);
    BOOST_TEST(replicate<pos::table>(server, replica, std::nullopt).error() == error::store_id_required);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_replicate_test
