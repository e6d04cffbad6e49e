// Codec throughput for one realistic product: incsync's direct encoder
// (`to_json`, `append_json`) against Boost.JSON's `serialize`, and
// `from_json_text` against Boost.JSON's `parse` (+ `value_to`).
//
// Build: g++ -std=c++20 -O2 -DNDEBUG -Iinclude benchmarks/codec.cpp -lbenchmark -lboost_json -lpthread
#include <incsync/codec.hpp>
#include <incsync/pos/entities.hpp>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <string>

using incsync::pos::product;

namespace {

product sample_product()
{
    product p;
    p.id = 48213;
    p.updated_at = *incsync::parse_timestamp("2026-11-25T09:41:17.204518Z");
    p.name = "Café con leche grande"; // 21 characters, one of them two bytes in UTF-8
    p.sku = "CAF-LECHE-GR-001";
    p.price_cents = 4250;
    p.category_id = 17;
    p.image_url = "https://cdn.example.com/img/products/48213.webp";
    p.image_version = 3;
    p.is_active = true;
    return p;
}

const product& the_product()
{
    static const product p = sample_product();
    return p;
}

const std::string& the_text()
{
    static const std::string s = incsync::to_json(the_product());
    return s;
}

// Each benchmark checks, before its timed loop, that its contender produces
// the same text (encoders) or the same product (decoders) as incsync.
bool same_text(benchmark::State& state, const std::string& got)
{
    if (got == the_text()) return true;
    state.SkipWithError(("output differs from to_json: " + got).c_str());
    return false;
}

bool same_product(benchmark::State& state, const product& got)
{
    if (got == the_product()) return true;
    state.SkipWithError("decoded product differs");
    return false;
}

void set_rates(benchmark::State& state)
{
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(the_text().size()));
}

// ---- encode ---------------------------------------------------------------

void BM_encode_incsync_to_json(benchmark::State& state)
{
    const product& p = the_product();
    if (!same_text(state, incsync::to_json(p))) return;
    for (auto _ : state) {
        std::string s = incsync::to_json(p);
        benchmark::DoNotOptimize(s.data());
    }
    set_rates(state);
}
BENCHMARK(BM_encode_incsync_to_json);

void BM_encode_incsync_append_json_reused(benchmark::State& state)
{
    const product& p = the_product();
    std::string out;
    incsync::append_json(out, p);
    if (!same_text(state, out)) return;
    for (auto _ : state) {
        out.clear();
        incsync::append_json(out, p);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_rates(state);
}
BENCHMARK(BM_encode_incsync_append_json_reused);

void BM_encode_boost_serialize_prebuilt_value(benchmark::State& state)
{
    const boost::json::value jv = boost::json::value_from(the_product());
    if (!same_text(state, boost::json::serialize(jv))) return;
    for (auto _ : state) {
        std::string s = boost::json::serialize(jv);
        benchmark::DoNotOptimize(s.data());
    }
    set_rates(state);
}
BENCHMARK(BM_encode_boost_serialize_prebuilt_value);

// Same as above, but through a reused serializer and output string, the
// closest Boost.JSON analogue of append_json into a reused string.
void BM_encode_boost_serializer_prebuilt_value_reused(benchmark::State& state)
{
    const boost::json::value jv = boost::json::value_from(the_product());
    boost::json::serializer sr;
    std::string out;
    char buf[4096];
    sr.reset(&jv);
    while (!sr.done()) out.append(sr.read(buf, sizeof buf));
    if (!same_text(state, out)) return;
    for (auto _ : state) {
        out.clear();
        sr.reset(&jv);
        while (!sr.done()) out.append(sr.read(buf, sizeof buf));
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_rates(state);
}
BENCHMARK(BM_encode_boost_serializer_prebuilt_value_reused);

void BM_encode_boost_serialize_value_from(benchmark::State& state)
{
    const product& p = the_product();
    if (!same_text(state, boost::json::serialize(boost::json::value_from(p)))) return;
    for (auto _ : state) {
        std::string s = boost::json::serialize(boost::json::value_from(p));
        benchmark::DoNotOptimize(s.data());
    }
    set_rates(state);
}
BENCHMARK(BM_encode_boost_serialize_value_from);

// ---- decode ---------------------------------------------------------------

void BM_decode_incsync_from_json_text(benchmark::State& state)
{
    const std::string& text = the_text();
    {
        auto r = incsync::from_json_text<product>(text);
        if (!r) return state.SkipWithError(r.error().message().c_str());
        if (!same_product(state, *r)) return;
    }
    for (auto _ : state) {
        auto r = incsync::from_json_text<product>(text);
        benchmark::DoNotOptimize(r);
    }
    set_rates(state);
}
BENCHMARK(BM_decode_incsync_from_json_text);

void BM_decode_boost_parse_only(benchmark::State& state)
{
    const std::string& text = the_text();
    if (!same_text(state, boost::json::serialize(boost::json::parse(text)))) return;
    for (auto _ : state) {
        boost::json::value jv = boost::json::parse(text);
        benchmark::DoNotOptimize(jv);
    }
    set_rates(state);
}
BENCHMARK(BM_decode_boost_parse_only);

void BM_decode_boost_parse_value_to(benchmark::State& state)
{
    const std::string& text = the_text();
    if (!same_product(state, boost::json::value_to<product>(boost::json::parse(text)))) return;
    for (auto _ : state) {
        product p = boost::json::value_to<product>(boost::json::parse(text));
        benchmark::DoNotOptimize(p);
    }
    set_rates(state);
}
BENCHMARK(BM_decode_boost_parse_value_to);

} // namespace

BENCHMARK_MAIN();
