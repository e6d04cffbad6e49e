// What the fuzz targets share: the libFuzzer entry point's declaration, a
// check that aborts with a message (libFuzzer then saves the input as a
// crash artifact; the replay test fails), and splitting an input into parts.
#ifndef INCSYNC_TESTS_FUZZ_FUZZ_HPP
#define INCSYNC_TESTS_FUZZ_FUZZ_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace incsync_fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line)
{
    std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, what);
    std::fflush(stderr);
    std::abort();
}

/// Splits `in` at every `separator`: "a<sep>b" gives {"a", "b"}.
inline std::vector<std::string_view> split(std::string_view in, std::string_view separator)
{
    std::vector<std::string_view> parts;
    for (;;) {
        const auto at = in.find(separator);
        parts.push_back(in.substr(0, at));
        if (at == std::string_view::npos) return parts;
        in.remove_prefix(at + separator.size());
    }
}

} // namespace incsync_fuzz

/// Aborts with the condition's text when it does not hold.
#define INCSYNC_FUZZ_CHECK(cond) ((cond) ? void() : ::incsync_fuzz::fail(#cond, __FILE__, __LINE__))

#endif
