// gzip (RFC 1952) bodies through Debian's zlib, for `Content-Encoding: gzip`
// on pulls (server) and their inflation (client).
//
// Why zlib and not Beast's header-only port (boost/beast/zlib/): the port is
// raw deflate only (no gzip header, no CRC-32: we would write and check both
// ourselves, and the gzip decoder is where hostile input arrives), while
// zlib's deflateInit2/inflateInit2 speak gzip directly and its inflate is the
// most exercised decoder there is. Speed does not decide it: both compress a
// pull page at the same rate (docs/benchmarks.md, bench_compression). zlib is
// on every Debian system already; the cost is one more library to link.
#ifndef INCSYNC_DETAIL_GZIP_HPP
#define INCSYNC_DETAIL_GZIP_HPP

#include <incsync/detail/http_list.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace incsync::detail {

/// Whether an `Accept-Encoding` value admits gzip (RFC 9110 section 12.5.3):
/// `gzip` or `x-gzip` or `*` with a q-value other than 0; an explicit
/// `gzip;q=0` refuses it even when `*` is there.
inline bool accepts_gzip(std::string_view header) noexcept
{
    auto iequals = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return (x | 0x20) == (y | 0x20);
               });
    };
    // q=0, 0.0, 0.00, 0.000 mean "not acceptable".
    auto zero_q = [](std::string_view params) {
        while (!params.empty()) {
            auto p = next_item(params, ';');
            if (p.size() < 2 || (p[0] | 0x20) != 'q' || p[1] != '=') continue;
            p.remove_prefix(2);
            return !p.empty() && p.find_first_not_of("0.") == std::string_view::npos && p[0] == '0';
        }
        return false;
    };
    int gzip = -1, star = -1; // -1 absent, 0 refused, 1 accepted
    while (!header.empty()) {
        auto params = next_item(header, ',');
        const auto coding = next_item(params, ';');
        const int verdict = zero_q(params) ? 0 : 1;
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip = verdict;
        else if (coding == "*") star = verdict;
    }
    return gzip == 1 || (gzip == -1 && star == 1);
}

namespace gzip_state {

// A deflate state is about 268 KiB: one per thread and level, reset per body,
// rather than one allocated for every pull.
struct deflater {
    z_stream z{};
    bool ready = false;
    explicit deflater(int level)
    {
        // 15 + 16: a 32 KiB window with the gzip wrapper; memLevel 8 is zlib's default.
        ready = deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~deflater()
    {
        if (ready) deflateEnd(&z);
    }
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;
};

inline deflater& for_level(int level)
{
    thread_local std::array<std::unique_ptr<deflater>, 10> per_level;
    auto& d = per_level[static_cast<std::size_t>(std::clamp(level, 1, 9))];
    if (!d) d = std::make_unique<deflater>(std::clamp(level, 1, 9));
    return *d;
}

} // namespace gzip_state

/// Compresses `in` into `out` (replacing its contents) as one gzip member.
/// `level`: 1 (fastest) to 9 (smallest). False only when zlib fails (memory).
/// Allocates nothing once `out` and this thread's state for `level` exist.
inline bool gzip_compress(std::string_view in, std::string& out, int level = 6)
{
    auto& d = gzip_state::for_level(level);
    if (!d.ready || deflateReset(&d.z) != Z_OK) return false;
    auto& z = d.z;
    out.resize(deflateBound(&z, static_cast<uLong>(in.size())) + 18); // the bound leaves out the gzip wrapper
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH); // one call: the output has room for the worst case
    out.resize(z.total_out);
    return rc == Z_STREAM_END;
}

/// Inflates the gzip body `in` into `out` (replacing its contents). False when
/// it is not one complete gzip stream or would exceed `max_bytes` once inflated
/// (a small body can expand a thousandfold).
inline bool gzip_decompress(std::string_view in, std::string& out, std::size_t max_bytes)
{
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return false;
    out.clear();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    // One byte of room past the limit tells "exactly at it" from "beyond it".
    const std::size_t cap = max_bytes < std::numeric_limits<std::size_t>::max() ? max_bytes + 1 : max_bytes;
    int rc = Z_OK;
    while (rc == Z_OK) {
        const std::size_t used = out.size();
        if (used >= cap) break;
        const std::size_t grow = std::min(cap - used, std::max<std::size_t>(in.size() * 4, 16384));
        out.resize(used + grow);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        z.avail_out = static_cast<uInt>(grow);
        rc = inflate(&z, Z_NO_FLUSH);
        out.resize(used + grow - z.avail_out);
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break; // truncated input
    }
    const bool complete = rc == Z_STREAM_END && z.avail_in == 0 && out.size() <= max_bytes;
    inflateEnd(&z);
    if (!complete) out.clear();
    return complete;
}

} // namespace incsync::detail

#endif
