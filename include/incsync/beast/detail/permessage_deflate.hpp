// WebSocket permessage-deflate (RFC 7692) for the server's own framing: the
// negotiation of the extension in the upgrade, and the raw-deflate of one
// message. The server always takes no context takeover for its messages, so
// a message compresses the same for every connection and needs no per-
// connection compressor (one per thread, reset per message); what a client
// sends is inflated with a per-connection stream made on its first
// compressed message.
#ifndef INCSYNC_BEAST_DETAIL_PERMESSAGE_DEFLATE_HPP
#define INCSYNC_BEAST_DETAIL_PERMESSAGE_DEFLATE_HPP

#include <incsync/detail/http_list.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace incsync::beast::detail {

/// What was agreed for one connection.
struct deflate_agreement {
    std::string response;                 ///< the Sec-WebSocket-Extensions value to answer with
    int server_window_bits = 15;          ///< the window our messages may use
    bool client_no_context_takeover = false; ///< the client resets its compressor per message
};

namespace pmd {

// A window-bits value: 8..15, digits only, no leading zero.
inline std::optional<int> window_bits(std::string_view v) noexcept
{
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (v.empty() || v.size() > 2 || v[0] == '0') return std::nullopt;
    int n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n < 8 || n > 15) return std::nullopt;
    return n;
}

// One offer's parameters (after "permessage-deflate"); nullopt when it must
// be declined: an unknown or repeated parameter, or a bad value.
inline std::optional<deflate_agreement> accept_offer(std::string_view params)
{
    deflate_agreement a;
    bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
    bool server_bits_asked = false;
    while (!params.empty()) {
        auto p = incsync::detail::next_item(params, ';');
        if (p.empty()) return std::nullopt;
        const bool has_value = p.find('=') != std::string_view::npos;
        const auto name = incsync::detail::next_item(p, '=');
        const std::optional<std::string_view> value =
            has_value ? std::optional(incsync::detail::trim_ows(p)) : std::nullopt;
        auto once = [](bool& seen) { return !std::exchange(seen, true); };
        if (name == "server_no_context_takeover") {
            if (value || !once(seen_snct)) return std::nullopt;
        } else if (name == "client_no_context_takeover") {
            if (value || !once(seen_cnct)) return std::nullopt;
            a.client_no_context_takeover = true;
        } else if (name == "server_max_window_bits") {
            if (!value || !once(seen_smwb)) return std::nullopt;
            const auto bits = window_bits(*value);
            // zlib's raw deflate has no 8-bit window (it makes 9): decline 8.
            if (!bits || *bits == 8) return std::nullopt;
            a.server_window_bits = *bits;
            server_bits_asked = true;
        } else if (name == "client_max_window_bits") {
            if (!once(seen_cmwb) || (value && !window_bits(*value))) return std::nullopt;
            // We inflate with a 15-bit window, which reads any smaller one:
            // nothing to answer.
        } else {
            return std::nullopt;
        }
    }
    a.response = "permessage-deflate; server_no_context_takeover";
    if (a.client_no_context_takeover) a.response += "; client_no_context_takeover";
    if (server_bits_asked) a.response += "; server_max_window_bits=" + std::to_string(a.server_window_bits);
    return a;
}

} // namespace pmd

/// The first acceptable permessage-deflate offer of a Sec-WebSocket-Extensions
/// header (all of the request's such headers, comma-joined), or nullopt.
/// Offers of other extensions are ignored.
inline std::optional<deflate_agreement> negotiate_permessage_deflate(std::string_view header)
{
    while (!header.empty()) {
        // Offers are comma-separated; a quoted parameter value holds no comma
        // in this extension's grammar (only digits), so a plain split is exact.
        auto params = incsync::detail::next_item(header, ',');
        if (incsync::detail::next_item(params, ';') != "permessage-deflate") continue;
        if (auto a = pmd::accept_offer(params)) return a;
    }
    return std::nullopt;
}

/// Compresses whole messages for a server without context takeover. Holds a
/// zlib stream (about 256 KiB at 15 window bits); `thread_local_for` gives the
/// calling thread's own, so connections share one per thread.
class message_deflater {
public:
    message_deflater(int window_bits, int level)
    {
        if (deflateInit2(&z_, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK) ready_ = true;
    }
    ~message_deflater()
    {
        if (ready_) deflateEnd(&z_);
    }
    message_deflater(const message_deflater&) = delete;
    message_deflater& operator=(const message_deflater&) = delete;

    /// The payload of the compressed message `a` + `b` (the two parts of a
    /// notification frame) into `out`: the deflate stream flushed, its final
    /// 00 00 FF FF removed (RFC 7692 section 7.2.1). False if zlib fails.
    bool compress(std::string_view a, std::string_view b, std::string& out)
    {
        if (!ready_ || deflateReset(&z_) != Z_OK) return false;
        out.resize(deflateBound(&z_, static_cast<uLong>(a.size() + b.size())) + 16);
        z_.next_out = reinterpret_cast<Bytef*>(out.data());
        z_.avail_out = static_cast<uInt>(out.size());
        for (auto part : {a, b}) {
            z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
            z_.avail_in = static_cast<uInt>(part.size());
            if (deflate(&z_, Z_NO_FLUSH) != Z_OK && z_.avail_in != 0) return false;
        }
        if (deflate(&z_, Z_SYNC_FLUSH) != Z_OK) return false;
        out.resize(out.size() - z_.avail_out);
        if (out.size() < 4 || out.compare(out.size() - 4, 4, std::string_view("\0\0\xff\xff", 4)) != 0) return false;
        out.resize(out.size() - 4);
        return true;
    }

    /// This thread's deflater for `window_bits` (9..15) and `level`.
    static message_deflater& thread_local_for(int window_bits, int level)
    {
        struct key_and_deflater {
            int level = 0;
            std::unique_ptr<message_deflater> d;
        };
        thread_local std::array<key_and_deflater, 16> per_bits;
        auto& slot = per_bits[static_cast<std::size_t>(std::clamp(window_bits, 9, 15))];
        if (!slot.d || slot.level != level) slot = {level, std::make_unique<message_deflater>(window_bits, level)};
        return *slot.d;
    }

private:
    z_stream z_{};
    bool ready_ = false;
};

/// Inflates a client's compressed messages, keeping the window between
/// messages unless the client agreed to no context takeover.
class message_inflater {
public:
    message_inflater()
    {
        if (inflateInit2(&z_, -15) == Z_OK) ready_ = true;
    }
    ~message_inflater()
    {
        if (ready_) inflateEnd(&z_);
    }
    message_inflater(const message_inflater&) = delete;
    message_inflater& operator=(const message_inflater&) = delete;

    enum class outcome { ok, too_big, corrupt };

    /// The message whose compressed payload is `in`, into `out`, at most
    /// `max_bytes`. After `corrupt` or `too_big` the stream is unusable: the
    /// connection is to be failed.
    outcome inflate_message(std::string_view in, std::string& out, std::size_t max_bytes, bool reset)
    {
        if (!ready_ || (reset && inflateReset(&z_) != Z_OK)) return outcome::corrupt;
        out.clear();
        static constexpr char tail[4] = {0, 0, '\xff', '\xff'};
        for (std::string_view part : {in, std::string_view(tail, 4)}) {
            z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
            z_.avail_in = static_cast<uInt>(part.size());
            // Until the input is used up and the output buffer was not filled
            // (a full one may leave output pending inside zlib).
            do {
                const std::size_t used = out.size();
                if (used > max_bytes) return outcome::too_big;
                const std::size_t grow = std::min<std::size_t>(max_bytes + 1 - used, 4096);
                out.resize(used + grow);
                z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
                z_.avail_out = static_cast<uInt>(grow);
                const int rc = inflate(&z_, Z_SYNC_FLUSH);
                out.resize(used + grow - z_.avail_out);
                if (rc == Z_STREAM_END) {
                    // The client ended its deflate stream (BFINAL, RFC 7692
                    // section 7.2.3.4): the message is whole; the next starts afresh.
                    inflateReset(&z_);
                    return out.size() > max_bytes ? outcome::too_big : outcome::ok;
                }
                if (rc == Z_BUF_ERROR) break; // no progress possible: all input used
                if (rc != Z_OK) return outcome::corrupt;
            } while (z_.avail_in > 0 || z_.avail_out == 0);
        }
        if (out.size() > max_bytes) return outcome::too_big;
        return outcome::ok;
    }

private:
    z_stream z_{};
    bool ready_ = false;
};

} // namespace incsync::beast::detail

#endif
