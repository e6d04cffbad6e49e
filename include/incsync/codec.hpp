// JSON to and from any described struct, through reflection.
//
// Encoding writes JSON text directly (`append_json`) and agrees byte for byte
// with Boost.JSON's own described-class conversion (`boost::json::value_from`),
// which `to_value` uses. Decoding walks the object's keys once, converting each
// member with `boost::json::try_value_to`; unlike Boost.JSON 1.81's described
// conversion it tolerates absent members (they keep their defaults), optionally
// ignores unknown ones, and names the offending member in the error.
#ifndef INCSYNC_CODEC_HPP
#define INCSYNC_CODEC_HPP

#include <incsync/detail/json_writer.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>
#include <incsync/member_set.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <boost/mp11/algorithm.hpp>

#include <string>
#include <string_view>

namespace incsync {

/// How strictly `from_json` and `decode_members` read an object.
///
/// Defaults are the server's: an unknown member is an error (a typo in an admin
/// write must not be dropped silently), an absent member keeps its default.
/// Clients decode what the server sends with `lenient_decode`, which ignores
/// unknown members so a newer server may add them.
struct decode_options {
    bool ignore_unknown_members = false; ///< else `error::unknown_member`
    bool require_all_members = false;    ///< else absent members keep their value
    bool enforce_required_members = false; ///< `required_members<T>` present and not null
};

/// Server-side input: unknown members rejected, absent ones defaulted.
inline constexpr decode_options strict_decode{};
/// What a client uses for records it receives.
inline constexpr decode_options lenient_decode{.ignore_unknown_members = true};
/// Admin create: like strict, plus the entity's required members.
inline constexpr decode_options create_decode{.enforce_required_members = true};

/// Appends a JSON object holding the members of `v` that are in `members`,
/// in declaration order. The one encoder behind `append_json` and deltas.
template <described T>
void append_members_json(std::string& out, const T& v, member_set members)
{
    out.push_back('{');
    bool first = true;
    std::size_t i = 0;
    boost::mp11::mp_for_each<detail::public_members<T>>([&](auto D) {
        if (!members.test(i++)) return;
        if (!first) out.push_back(',');
        first = false;
        out.push_back('"');
        out.append(D.name);
        out.append("\":");
        detail::append_json_value(out, v.*D.pointer);
    });
    out.push_back('}');
}

/// Appends the JSON object for `v` to `out`: members in declaration order.
template <described T>
void append_json(std::string& out, const T& v)
{
    append_members_json(out, v, member_set::first(member_count<T>));
}

/// The JSON text of `v`.
template <described T>
std::string to_json(const T& v)
{
    std::string out;
    out.reserve(64 * member_count<T>);
    append_json(out, v);
    return out;
}

/// `v` as a `boost::json::value` (Boost.JSON's described-class conversion).
template <described T>
boost::json::value to_value(const T& v)
{
    return boost::json::value_from(v);
}

/// Decodes the members present in `obj` onto `target` and returns which ones
/// were set. All or nothing: on error `target` is unchanged. The error detail
/// names the member.
template <described T>
result<member_set> decode_members(T& target, const boost::json::object& obj,
                                  const decode_options& opts = strict_decode)
{
    T scratch = target;
    member_set seen;
    for (const auto& kv : obj) {
        const std::string_view key = kv.key();
        const std::size_t index = member_index<T>(key);
        if (index == member_count<T>) {
            if (opts.ignore_unknown_members) continue;
            return error_info(error::unknown_member, std::string(key));
        }
        bool ok = true;
        boost::mp11::mp_with_index<member_count<T>>(index, [&](auto I) {
            using D = boost::mp11::mp_at_c<detail::public_members<T>, I>;
            using M = detail::member_type<T, D>;
            auto r = boost::json::try_value_to<M>(kv.value());
            if (r) scratch.*D::pointer = std::move(*r);
            else ok = false;
        });
        if (!ok) return error_info(error::wrong_type, std::string(key));
        seen.set(index);
    }
    if (opts.require_all_members) {
        for (std::size_t i = 0; i < member_count<T>; ++i)
            if (!seen.test(i)) return error_info(error::missing_member, std::string(member_names<T>[i]));
    }
    if constexpr (entity<T>) {
        if (opts.enforce_required_members) {
            for (std::string_view name : required_members<T>) {
                const auto* v = obj.if_contains(name);
                if (!v || v->is_null()) return error_info(error::missing_member, std::string(name));
            }
        }
    }
    target = std::move(scratch);
    return seen;
}

/// Decodes a `T` from a JSON value; absent members take `T{}`'s values.
template <described T>
result<T> from_json(const boost::json::value& jv, const decode_options& opts = strict_decode)
{
    const auto* obj = jv.if_object();
    if (!obj) return error::not_object;
    T v{};
    auto r = decode_members(v, *obj, opts);
    if (!r) return r.error();
    return v;
}

/// Parses JSON text, then decodes. Malformed text is `error::bad_json`.
template <described T>
result<T> from_json_text(std::string_view text, const decode_options& opts = strict_decode)
{
    boost::system::error_code ec;
    auto jv = boost::json::parse(text, ec);
    if (ec) return error_info(error::bad_json, ec.message());
    return from_json<T>(jv, opts);
}

} // namespace incsync

#endif
