// Deltas for one product where 2 of its 9 members changed: computing and
// encoding the delta (`diff` + `append_delta_json`), and applying the delta
// object onto a product (`apply_delta`).
//
// Build: g++ -std=c++20 -O2 -DNDEBUG -Iinclude benchmarks/delta.cpp -lbenchmark -lboost_json -lpthread
#include <incsync/delta.hpp>
#include <incsync/pos/entities.hpp>

#include <benchmark/benchmark.h>
#include <boost/json/serialize.hpp>

#include <string>

using incsync::pos::product;

namespace {

product before()
{
    product p;
    p.id = 48213;
    p.updated_at = *incsync::parse_timestamp("2026-11-25T09:41:17.204518Z");
    p.name = "Café con leche grande";
    p.sku = "CAF-LECHE-GR-001";
    p.price_cents = 4250;
    p.category_id = 17;
    p.image_url = "https://cdn.example.com/img/products/48213.webp";
    p.image_version = 3;
    p.is_active = true;
    return p;
}

/// `before()` with price_cents and is_active changed: 2 of 9 members.
product after()
{
    product p = before();
    p.price_cents = 4490;
    p.is_active = false;
    return p;
}

constexpr std::string_view expected_delta = R"({"price_cents":4490,"is_active":false})";

void BM_diff(benchmark::State& state)
{
    const product a = before(), b = after();
    if (incsync::diff(a, b).count() != 2) return state.SkipWithError("expected 2 changed members");
    for (auto _ : state) {
        auto changed = incsync::diff(a, b);
        benchmark::DoNotOptimize(changed);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_diff);

void BM_diff_and_append_delta_json(benchmark::State& state)
{
    const product a = before(), b = after();
    std::string out;
    incsync::append_delta_json(out, b, incsync::diff(a, b));
    if (out != expected_delta) return state.SkipWithError(("unexpected delta: " + out).c_str());
    for (auto _ : state) {
        out.clear();
        incsync::append_delta_json(out, b, incsync::diff(a, b));
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_diff_and_append_delta_json);

// The delta is prebuilt; each iteration applies it onto the same target. After
// the first application the target already equals `after()`, but
// `apply_delta` does the same work regardless (copy, decode both members,
// move back), so every iteration costs the same.
void BM_apply_delta(benchmark::State& state)
{
    const product a = before(), b = after();
    const boost::json::object delta = incsync::encode_delta(b, incsync::diff(a, b));
    if (boost::json::serialize(delta) != expected_delta)
        return state.SkipWithError(("unexpected delta: " + boost::json::serialize(delta)).c_str());
    product target = a;
    {
        auto r = incsync::apply_delta(target, delta);
        if (!r) return state.SkipWithError(r.error().message().c_str());
        if (!(target == b) || r->count() != 2) return state.SkipWithError("apply_delta did not yield the new value");
    }
    for (auto _ : state) {
        auto r = incsync::apply_delta(target, delta);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(target);
    }
    if (!(target == b)) state.SkipWithError("target drifted");
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_apply_delta);

} // namespace

BENCHMARK_MAIN();
