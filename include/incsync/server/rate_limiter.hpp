// Per-client rate limiting (PROTOCOL.md section 6: 429 `rate_limited` with
// `Retry-After`): a token bucket per client key, refilled continuously.
//
// The key is the client's token when it presented a valid one, else its
// address, so a client cannot escape its bucket by inventing tokens.
#ifndef INCSYNC_SERVER_RATE_LIMITER_HPP
#define INCSYNC_SERVER_RATE_LIMITER_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace incsync::server {

struct rate_limit {
    double per_second = 0; ///< sustained requests per second; 0 disables the limit
    double burst = 0;      ///< bucket size: requests allowed at once after a quiet spell
};

/// Token buckets keyed by client. Thread-safe. Memory stays bounded: when the
/// table reaches `max_clients`, buckets that have refilled completely (clients
/// that would not be limited anyway) are dropped.
class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    explicit rate_limiter(rate_limit limit, std::size_t max_clients = 100'000)
        : limit_(limit), max_clients_(max_clients)
    {
    }

    bool enabled() const noexcept { return limit_.per_second > 0; }

    /// Takes one request from `client`'s bucket. Returns 0 when allowed, else
    /// the whole seconds to wait before the next request would be (>= 1).
    std::uint32_t acquire(std::string_view client, clock::time_point now = clock::now())
    {
        if (!enabled()) return 0;
        const double burst = std::max(limit_.burst, 1.0);
        std::lock_guard lock(mutex_);
        auto it = buckets_.find(client);
        if (it == buckets_.end()) {
            if (buckets_.size() >= max_clients_) sweep(now, burst);
            it = buckets_.emplace(std::string(client), bucket{burst, now}).first;
        }
        auto& b = it->second;
        b.tokens = std::min(burst, b.tokens + seconds(now - b.last) * limit_.per_second);
        b.last = now;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return static_cast<std::uint32_t>(std::max(1.0, std::ceil((1 - b.tokens) / limit_.per_second)));
    }

    std::size_t clients() const
    {
        std::lock_guard lock(mutex_);
        return buckets_.size();
    }

private:
    struct bucket {
        double tokens;
        clock::time_point last;
    };

    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };

    static double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }

    void sweep(clock::time_point now, double burst)
    {
        std::erase_if(buckets_, [&](const auto& kv) {
            return kv.second.tokens + seconds(now - kv.second.last) * limit_.per_second >= burst;
        });
        // Every client is active: forget the oldest half rather than grow.
        if (buckets_.size() >= max_clients_) {
            std::size_t n = 0;
            std::erase_if(buckets_, [&](const auto&) { return n++ % 2 == 0; });
        }
    }

    rate_limit limit_;
    std::size_t max_clients_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, bucket, string_hash, std::equal_to<>> buckets_;
};

} // namespace incsync::server

#endif
