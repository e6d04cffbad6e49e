// Deltas: which members differ between two values, a JSON object of just those
// members, and applying such an object onto a value.
#ifndef INCSYNC_DELTA_HPP
#define INCSYNC_DELTA_HPP

#include <incsync/codec.hpp>
#include <incsync/member_set.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value_from.hpp>
#include <boost/mp11/algorithm.hpp>

#include <string>

namespace incsync {

/// The members whose values differ between `a` and `b`.
template <described T>
member_set diff(const T& a, const T& b)
{
    member_set changed;
    std::size_t i = 0;
    boost::mp11::mp_for_each<detail::public_members<T>>([&](auto D) {
        if (!(a.*D.pointer == b.*D.pointer)) changed.set(i);
        ++i;
    });
    return changed;
}

/// Copies the members in `members` from `src` onto `dst`.
template <described T>
void assign_members(T& dst, const T& src, member_set members)
{
    std::size_t i = 0;
    boost::mp11::mp_for_each<detail::public_members<T>>([&](auto D) {
        if (members.test(i)) dst.*D.pointer = src.*D.pointer;
        ++i;
    });
}

/// Appends a JSON object holding only the members of `v` in `members`.
template <described T>
void append_delta_json(std::string& out, const T& v, member_set members)
{
    append_members_json(out, v, members);
}

/// The delta carrying `members` of `v`, as a JSON object.
template <described T>
boost::json::object encode_delta(const T& v, member_set members)
{
    boost::json::object obj;
    std::size_t i = 0;
    boost::mp11::mp_for_each<detail::public_members<T>>([&](auto D) {
        if (members.test(i++)) obj[D.name] = boost::json::value_from(v.*D.pointer);
    });
    return obj;
}

/// Applies a delta object onto `target`: afterwards, for `b` and
/// `d = encode_delta(b, diff(a, b))`, `apply_delta(a, d)` leaves `a == b`.
/// All or nothing (see `decode_members`); returns the members set.
template <described T>
result<member_set> apply_delta(T& target, const boost::json::object& delta,
                               const decode_options& opts = strict_decode)
{
    return decode_members(target, delta, opts);
}

} // namespace incsync

#endif
