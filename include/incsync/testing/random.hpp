// Random values of any described struct, for property tests and the
// conformance kit. Strings include quotes, escapes, control characters and
// multi-byte UTF-8, so codecs meet what real catalogs hold.
#ifndef INCSYNC_TESTING_RANDOM_HPP
#define INCSYNC_TESTING_RANDOM_HPP

#include <incsync/decimal.hpp>
#include <incsync/entity.hpp>
#include <incsync/timestamp.hpp>

#include <boost/mp11/algorithm.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <type_traits>

namespace incsync::testing {

using rng = std::mt19937_64;

namespace detail {

inline std::string random_string(rng& g)
{
    static constexpr const char* pieces[] = {"a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\t",
                                             "\x01", "é", "€", "日本", "🍕", "{", "}", ":", ","};
    std::uniform_int_distribution<int> len(0, 8), pick(0, std::size(pieces) - 1);
    std::string s;
    for (int n = len(g); n > 0; --n) s += pieces[pick(g)];
    return s;
}

template <class M>
M random_member(rng& g)
{
    if constexpr (std::is_same_v<M, bool>) {
        return std::bernoulli_distribution(0.5)(g);
    } else if constexpr (std::is_integral_v<M>) {
        // Mostly small values, sometimes the extremes.
        if (std::bernoulli_distribution(0.05)(g))
            return std::bernoulli_distribution(0.5)(g) ? std::numeric_limits<M>::max() : std::numeric_limits<M>::min();
        return static_cast<M>(std::uniform_int_distribution<std::int64_t>(-3, 1000)(g));
    } else if constexpr (std::is_same_v<M, std::string>) {
        return random_string(g);
    } else if constexpr (std::is_same_v<M, timestamp>) {
        return timestamp{std::uniform_int_distribution<std::int64_t>(0, 4'102'444'800'000'000)(g)};
    } else if constexpr (std::is_same_v<M, decimal>) {
        return decimal{std::uniform_int_distribution<std::int64_t>(-10'000'000'000, 10'000'000'000)(g)};
    } else if constexpr (requires { typename M::value_type; std::optional<typename M::value_type>{}; }
                         && std::is_same_v<M, std::optional<typename M::value_type>>) {
        if (std::bernoulli_distribution(0.3)(g)) return std::nullopt;
        return random_member<typename M::value_type>(g);
    } else {
        static_assert(sizeof(M) == 0, "random_value: unsupported member type");
    }
}

} // namespace detail

/// A value of `T` with every member random.
template <described T>
T random_value(rng& g)
{
    T v{};
    boost::mp11::mp_for_each<incsync::detail::public_members<T>>([&](auto D) {
        using M = incsync::detail::member_type<T, decltype(D)>;
        v.*D.pointer = detail::random_member<M>(g);
    });
    return v;
}

/// Changes each member of `v` with probability `p`.
template <described T>
void mutate(T& v, rng& g, double p = 0.3)
{
    boost::mp11::mp_for_each<incsync::detail::public_members<T>>([&](auto D) {
        using M = incsync::detail::member_type<T, decltype(D)>;
        if (std::bernoulli_distribution(p)(g)) v.*D.pointer = detail::random_member<M>(g);
    });
}

} // namespace incsync::testing

#endif
