#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/metrics.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace unit_metrics_test {

using namespace incsync::metrics;

BOOST_AUTO_TEST_SUITE(metrics_suite)

BOOST_AUTO_TEST_CASE(counters_and_gauges_lose_no_update_across_threads)
{
    counter c;
    gauge g;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 100'000; ++i) {
                c.add();
                g.add(2);
                g.sub();
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(c.value() == 400'000u);
    BOOST_TEST(g.value() == 400'000);
    g.set(-3);
    BOOST_TEST(g.value() == -3);
}

BOOST_AUTO_TEST_CASE(a_histogram_bucket_includes_its_upper_bound_and_the_rest_go_to_inf)
{
    histogram h{10, 100, 5, 100}; // unsorted, with a duplicate: 5, 10, 100 and +Inf
    for (std::uint64_t v : {0, 5, 6, 10, 11, 100, 101, 1'000'000}) h.observe(v);
    const auto s = h.read();
    BOOST_TEST(s.upper_bounds == (std::vector<std::uint64_t>{5, 10, 100}), boost::test_tools::per_element());
    BOOST_TEST(s.counts == (std::vector<std::uint64_t>{2, 2, 2, 2}), boost::test_tools::per_element());
    BOOST_TEST(s.sum == 0u + 5 + 6 + 10 + 11 + 100 + 101 + 1'000'000);
    BOOST_TEST(s.count() == 8u);
}

BOOST_AUTO_TEST_CASE(a_histogram_counts_every_observation_across_threads)
{
    histogram h(latency_buckets_us());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (std::uint64_t i = 0; i < 50'000; ++i) h.observe(i * 37 % 20'000'000 + static_cast<std::uint64_t>(t));
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(h.read().count() == 200'000u);
}

BOOST_AUTO_TEST_CASE(the_exposition_is_prometheus_text_format)
{
    exposition e;
    e.family("incsync_requests_total", "counter", "HTTP requests answered.");
    e.sample("incsync_requests_total", {{"route", "pull"}, {"status", "200"}}, std::uint64_t{7});
    e.sample("incsync_requests_total", {}, std::uint64_t{0});
    e.family("incsync_connections", "gauge", "Open connections.");
    e.sample("incsync_connections", {{"transport", "websocket"}}, std::int64_t{-2});
    e.family("incsync_ratio", "gauge", "A double.");
    e.sample("incsync_ratio", {}, 0.25);

    histogram h{1'000, 250'000};
    h.observe(500);
    h.observe(1'000);
    h.observe(2'000'000);
    e.family("incsync_request_duration_seconds", "histogram", "Latency.");
    e.sample("incsync_request_duration_seconds", {{"route", "pull"}}, h.read(), 1e6);

    BOOST_TEST(e.text() == R"(# HELP incsync_requests_total HTTP requests answered.
# TYPE incsync_requests_total counter
incsync_requests_total{route="pull",status="200"} 7
incsync_requests_total 0
# HELP incsync_connections Open connections.
# TYPE incsync_connections gauge
incsync_connections{transport="websocket"} -2
# HELP incsync_ratio A double.
# TYPE incsync_ratio gauge
incsync_ratio 0.25
# HELP incsync_request_duration_seconds Latency.
# TYPE incsync_request_duration_seconds histogram
incsync_request_duration_seconds_bucket{route="pull",le="0.001"} 2
incsync_request_duration_seconds_bucket{route="pull",le="0.25"} 2
incsync_request_duration_seconds_bucket{route="pull",le="+Inf"} 3
incsync_request_duration_seconds_sum{route="pull"} 2.0015
incsync_request_duration_seconds_count{route="pull"} 3
)");
}

BOOST_AUTO_TEST_CASE(label_values_and_help_texts_are_escaped)
{
    exposition e;
    e.family("m", "gauge", "back\\slash and\nnewline");
    e.sample("m", {{"register", "a\"b\\c\nd"}}, std::uint64_t{1});
    BOOST_TEST(e.text() == "# HELP m back\\\\slash and\\nnewline\n# TYPE m gauge\nm{register=\"a\\\"b\\\\c\\nd\"} 1\n");

    // Every sample line has the grammar's shape: name, optional labels, one value.
    const std::regex line(R"re([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? \S+)re");
    std::istringstream in(e.text());
    for (std::string l; std::getline(in, l);)
        if (!l.starts_with('#')) BOOST_TEST(std::regex_match(l, line), l);
}

BOOST_AUTO_TEST_CASE(doubles_print_as_prometheus_reads_them)
{
    BOOST_TEST(exposition::format_double(0.0001) == "0.0001");
    BOOST_TEST(exposition::format_double(10) == "10");
    BOOST_TEST(exposition::format_double(1.5e-7) == "0.00000015");
    BOOST_TEST(exposition::format_double(-2.5) == "-2.5");
    BOOST_TEST(exposition::format_double(0) == "0");
    BOOST_TEST(exposition::format_double(1e300) == "1e+300");
    BOOST_TEST(exposition::format_double(std::numeric_limits<double>::infinity()) == "+Inf");
    BOOST_TEST(exposition::format_double(-std::numeric_limits<double>::infinity()) == "-Inf");
    BOOST_TEST(exposition::format_double(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_metrics_test
