// Waiting for a condition in a test: polling with a deadline, never a sleep
// that stands in for synchronization.
#ifndef INCSYNC_TESTS_UNIT_WAIT_HPP
#define INCSYNC_TESTS_UNIT_WAIT_HPP

#include <chrono>
#include <thread>

namespace testwait {

/// Polls `pred` every millisecond until it holds or `timeout` passes.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace testwait

#endif
