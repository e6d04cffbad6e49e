// A set of members of one entity type, one bit per member in declaration order.
#ifndef INCSYNC_MEMBER_SET_HPP
#define INCSYNC_MEMBER_SET_HPP

#include <bit>
#include <cstddef>
#include <cstdint>
#include <ostream>

namespace incsync {

/// Which members of an entity (by `member_index`) a change touched, or a
/// delta carries. One machine word: entities have at most 64 members.
/// Regular value type, constexpr, noexcept.
class member_set {
public:
    constexpr member_set() noexcept = default;
    constexpr explicit member_set(std::uint64_t bits) noexcept : bits_(bits) {}

    /// The set of the first `n` members.
    static constexpr member_set first(std::size_t n) noexcept
    {
        return member_set(n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1);
    }

    constexpr member_set& set(std::size_t i) noexcept
    {
        bits_ |= std::uint64_t{1} << i;
        return *this;
    }
    constexpr member_set& reset(std::size_t i) noexcept
    {
        bits_ &= ~(std::uint64_t{1} << i);
        return *this;
    }
    constexpr bool test(std::size_t i) const noexcept { return (bits_ >> i) & 1u; }
    constexpr bool empty() const noexcept { return bits_ == 0; }
    constexpr std::size_t count() const noexcept { return static_cast<std::size_t>(std::popcount(bits_)); }
    constexpr std::uint64_t bits() const noexcept { return bits_; }
    /// True when every member of `other` is in this set.
    constexpr bool contains(member_set other) const noexcept { return (bits_ & other.bits_) == other.bits_; }

    friend constexpr member_set operator|(member_set a, member_set b) noexcept { return member_set(a.bits_ | b.bits_); }
    friend constexpr member_set operator&(member_set a, member_set b) noexcept { return member_set(a.bits_ & b.bits_); }
    friend constexpr member_set operator-(member_set a, member_set b) noexcept { return member_set(a.bits_ & ~b.bits_); }
    constexpr member_set& operator|=(member_set o) noexcept { bits_ |= o.bits_; return *this; }
    friend constexpr bool operator==(member_set, member_set) noexcept = default;

private:
    std::uint64_t bits_ = 0;
};

/// Prints the member indexes: `{0,3,5}`.
inline std::ostream& operator<<(std::ostream& os, member_set m)
{
    os << '{';
    bool first = true;
    for (std::size_t i = 0; i < 64; ++i)
        if (m.test(i)) {
            os << (first ? "" : ",") << i;
            first = false;
        }
    return os << '}';
}

} // namespace incsync

#endif
