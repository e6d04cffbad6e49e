#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/client/backoff.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

namespace unit_client_backoff_test {

using incsync::client::backoff;
using ms = std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(client_backoff)

BOOST_AUTO_TEST_CASE(the_ceiling_doubles_up_to_the_cap)
{
    backoff b(ms(500), ms(30000), 1);
    BOOST_TEST(b.ceiling(1).count() == 500);
    BOOST_TEST(b.ceiling(2).count() == 1000);
    BOOST_TEST(b.ceiling(4).count() == 4000);
    BOOST_TEST(b.ceiling(7).count() == 30000);
    BOOST_TEST(b.ceiling(1000).count() == 30000);
}

BOOST_AUTO_TEST_CASE(waits_spread_over_the_whole_interval_so_reconnects_do_not_bunch)
{
    // A thousand registers whose server went away at the same moment: their
    // first reconnects spread evenly over [0, 500 ms].
    std::vector<long> waits;
    for (unsigned seed = 0; seed < 1000; ++seed) waits.push_back(backoff(ms(500), ms(30000), seed).next(1).count());
    BOOST_TEST(*std::min_element(waits.begin(), waits.end()) >= 0);
    BOOST_TEST(*std::max_element(waits.begin(), waits.end()) <= 500);
    // No 50 ms slice gets much more than its tenth.
    std::vector<int> slices(10);
    for (long w : waits) ++slices[std::min<long>(w / 50, 9)];
    BOOST_TEST(*std::max_element(slices.begin(), slices.end()) < 150);
    BOOST_TEST(*std::min_element(slices.begin(), slices.end()) > 50);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_client_backoff_test
