// Compression of sync traffic: a 1 000-product pull page (what a catch-up is
// made of) and one notification (what permessage-deflate would compress),
// through Debian's zlib (what incsync uses, incsync/detail/gzip.hpp) and
// through Beast's header-only port (boost/beast/zlib/), at the same settings.
// Reports the compressed size as a counter. Inflation is measured for zlib
// only (gunzip of the page).
//
// Build: what CMake's bench_compression target does (-O2 -DNDEBUG, -lz -lbenchmark).
#include <incsync/detail/gzip.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/pull.hpp>
#include <incsync/wire/notification.hpp>
#include <incsync/wire/pull_response.hpp>

#include <benchmark/benchmark.h>
#include <boost/beast/zlib/deflate_stream.hpp>

#include <string>

namespace {

using namespace incsync;

/// A first page of a catch-up of 1 000 products over 10 categories, as the server sends it.
const std::string& page_body()
{
    static const std::string body = [] {
        memory::server_store<pos::entities> store;
        for (int i = 0; i < 1000; ++i) {
            pos::product p;
            p.name = "Product " + std::to_string(i * 7919 % 100003) + " large";
            p.sku = "SKU-" + std::to_string(100000 + i);
            p.price_cents = 100 + i * 37 % 9000;
            p.category_id = 1 + i % 10;
            p.is_active = true;
            (void)store.create(p);
        }
        auto r = pull<pos::product>(store, {"", std::nullopt, 1000});
        std::string out;
        wire::append_pull_response(out, *r, false);
        return out;
    }();
    return body;
}

/// One notification body, as a WebSocket frame carries it (seq prefix included).
const std::string& notification_body()
{
    static const std::string body = [] {
        change c{4711, "product", 48213, std::nullopt, change_type::update, member_set{},
                 *parse_timestamp("2026-11-25T09:41:17.204518Z")};
        return std::string(wire::seq_prefix(17).view()) + wire::make_notification(c)->body;
    }();
    return body;
}

void zlib_gzip(benchmark::State& state, const std::string& in, int level)
{
    std::string out;
    for (auto _ : state) {
        incsync::detail::gzip_compress(in, out, level);
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["in_bytes"] = static_cast<double>(in.size());
    state.counters["out_bytes"] = static_cast<double>(out.size());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

// Raw deflate (no gzip wrapper: the port has none), as permessage-deflate uses it.
void beast_deflate(benchmark::State& state, const std::string& in, int level)
{
    namespace zlib = boost::beast::zlib;
    zlib::deflate_stream ds;
    ds.reset(level, 15, 8, zlib::Strategy::normal);
    std::string out(ds.upper_bound(in.size()) + 16, '\0');
    std::size_t produced = 0;
    for (auto _ : state) {
        ds.reset();
        zlib::z_params zs;
        zs.next_in = in.data();
        zs.avail_in = in.size();
        zs.next_out = out.data();
        zs.avail_out = out.size();
        boost::system::error_code ec;
        ds.write(zs, zlib::Flush::finish, ec);
        produced = zs.total_out;
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["out_bytes"] = static_cast<double>(produced);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

void zlib_gunzip(benchmark::State& state)
{
    std::string gz, out;
    incsync::detail::gzip_compress(page_body(), gz, 6);
    for (auto _ : state) {
        incsync::detail::gzip_decompress(gz, out, 1 << 26);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * page_body().size()));
}

} // namespace

BENCHMARK_CAPTURE(zlib_gzip, page_level1, page_body(), 1);
BENCHMARK_CAPTURE(zlib_gzip, page_level6, page_body(), 6);
BENCHMARK_CAPTURE(beast_deflate, page_level1, page_body(), 1);
BENCHMARK_CAPTURE(beast_deflate, page_level6, page_body(), 6);
BENCHMARK(zlib_gunzip);
BENCHMARK_CAPTURE(zlib_gzip, notification_level6, notification_body(), 6);
BENCHMARK_CAPTURE(beast_deflate, notification_level6, notification_body(), 6);

BENCHMARK_MAIN();
