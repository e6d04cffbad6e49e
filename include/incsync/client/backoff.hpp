// Exponential backoff with full jitter: the n-th consecutive failure waits a
// uniformly random time in [0, min(cap, initial * 2^(n-1))]. Randomizing the
// whole interval spreads the reconnects of a thousand registers whose server
// restarted over the interval instead of bunching them at its end.
#ifndef INCSYNC_CLIENT_BACKOFF_HPP
#define INCSYNC_CLIENT_BACKOFF_HPP

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace incsync::client {

class backoff {
public:
    using duration = std::chrono::milliseconds;

    backoff(duration initial, duration cap, std::uint64_t seed = std::random_device{}())
        : initial_(std::max(initial, duration(1))), cap_(std::max(cap, initial_)), rng_(seeded(seed)) {}

    /// The ceiling of the `failures`-th wait (failures >= 1).
    duration ceiling(unsigned failures) const noexcept
    {
        duration d = initial_;
        for (unsigned i = 1; i < failures && d < cap_; ++i) d *= 2;
        return std::min(d, cap_);
    }

    /// A random wait for the `failures`-th consecutive failure.
    duration next(unsigned failures)
    {
        std::uniform_int_distribution<std::int64_t> pick(0, ceiling(std::max(failures, 1u)).count());
        return duration(pick(rng_));
    }

private:
    // Through seed_seq: registers started with neighbouring seeds (ids, say)
    // must not draw correlated waits, as a bare LCG seeded with n would.
    static std::mt19937_64 seeded(std::uint64_t seed)
    {
        std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
        return std::mt19937_64(seq);
    }

    duration initial_;
    duration cap_;
    std::mt19937_64 rng_;
};

} // namespace incsync::client

#endif
