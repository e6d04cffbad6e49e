// One pull of the last 100 changes from an in-memory server store holding N
// products (N = 10'000 and 1'000'000): is a pull's cost independent of the
// store's size? Two ways of saying where to start: a cursor, and an RFC 3339
// timestamp (which goes through `version_at`, a search of the change log).
//
// The store for each N is built once (filling 1M products takes seconds) and
// shared by every run of both benchmarks. Every timed pull asks for the same
// 100 changes, so the data it touches stays in cache: this measures the pull's
// own work, not a cold lookup.
//
// Build: g++ -std=c++20 -O2 -DNDEBUG -Iinclude benchmarks/query.cpp -lbenchmark -lboost_json -lpthread
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/pull.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

using incsync::pos::product;

namespace {

using store_t = incsync::memory::server_store<incsync::pos::entities>;

constexpr std::size_t page = 100;

struct fixture {
    store_t store;
    incsync::version_t high_water = 0;
    std::string cursor;    ///< positioned at high_water - 100
    std::string timestamp; ///< commit timestamp of version high_water - 100
};

product make_product(std::int64_t i)
{
    product p;
    p.name = "Café con leche " + std::to_string(i);
    p.sku = "SKU-" + std::to_string(100000 + i);
    p.price_cents = 100 + i % 9000;
    p.category_id = 1 + i % 40;
    p.image_url = "https://cdn.example.com/img/products/" + std::to_string(i) + ".webp";
    p.image_version = 1;
    p.is_active = true;
    return p;
}

fixture& fixture_for(std::size_t n)
{
    static std::map<std::size_t, std::unique_ptr<fixture>> cache;
    auto& f = cache[n];
    if (f) return *f;
    const auto start = std::chrono::steady_clock::now();
    f = std::make_unique<fixture>();
    incsync::timestamp mark{};
    for (std::size_t i = 1; i <= n; ++i) {
        auto c = f->store.create<product>(make_product(static_cast<std::int64_t>(i))).value();
        if (c.change.version == n - page) mark = c.change.committed_at;
    }
    f->high_water = f->store.high_water().value();
    const incsync::version_t v = f->high_water - page;
    f->cursor = incsync::encode_cursor({f->store.epoch(), v, v, incsync::cursor_tag("product"), std::nullopt});
    f->timestamp = incsync::format_timestamp(mark);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "filled %zu products in %.2f s (%.2f us each); high water %llu\n", n, secs,
                 secs * 1e6 / static_cast<double>(n), static_cast<unsigned long long>(f->high_water));
    return *f;
}

template <bool ByTimestamp>
void BM_pull_last_100(benchmark::State& state)
{
    fixture& f = fixture_for(static_cast<std::size_t>(state.range(0)));
    const incsync::pull_request req{ByTimestamp ? f.timestamp : f.cursor, std::nullopt, page};
    {
        auto r = incsync::pull<product>(f.store, req);
        if (!r) return state.SkipWithError(r.error().message().c_str());
        if (r->page.changes.size() != page || r->page.has_more || r->since.after != f.high_water - page)
            return state.SkipWithError("expected exactly the last 100 changes");
    }
    for (auto _ : state) {
        auto r = incsync::pull<product>(f.store, req);
        if (!r || r->page.changes.size() != page) {
            state.SkipWithError("pull did not return 100 changes");
            break;
        }
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(page));
}

BENCHMARK_TEMPLATE(BM_pull_last_100, false)->Name("BM_pull_last_100/cursor")->Arg(10'000)->Arg(1'000'000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_pull_last_100, true)->Name("BM_pull_last_100/timestamp")->Arg(10'000)->Arg(1'000'000)
    ->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
