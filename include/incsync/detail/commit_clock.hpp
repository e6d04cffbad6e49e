// The clock behind commit timestamps. Every timestamp it hands out, a commit's
// or a response's `server_time`, is >= all handed out before, and a commit's
// is strictly greater. So a client that sends back any timestamp it was given
// as `since` can never skip a later commit, even if the wall clock steps back.
#ifndef INCSYNC_DETAIL_COMMIT_CLOCK_HPP
#define INCSYNC_DETAIL_COMMIT_CLOCK_HPP

#include <incsync/timestamp.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace incsync::detail {

class commit_clock {
public:
    /// A commit timestamp: strictly after everything handed out so far.
    timestamp next() noexcept { return advance(1); }

    /// A reading (e.g. `server_time`): not before anything handed out so far,
    /// and every later `next()` is strictly after it.
    timestamp observe() noexcept { return advance(0); }

    /// The latest timestamp handed out.
    timestamp last() const noexcept { return {last_.load(std::memory_order_acquire)}; }

    /// Never hand out anything at or before `t` (a store reopened from disk).
    void raise_to(timestamp t) noexcept
    {
        std::int64_t prev = last_.load(std::memory_order_relaxed);
        while (prev < t.micros && !last_.compare_exchange_weak(prev, t.micros, std::memory_order_acq_rel)) {}
    }

private:
    timestamp advance(std::int64_t min_step) noexcept
    {
        std::int64_t prev = last_.load(std::memory_order_relaxed);
        for (;;) {
            const std::int64_t t = std::max(timestamp::now().micros, prev + min_step);
            if (t == prev || last_.compare_exchange_weak(prev, t, std::memory_order_acq_rel)) return {t};
        }
    }

    std::atomic<std::int64_t> last_{0};
};

} // namespace incsync::detail

#endif
