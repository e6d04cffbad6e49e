// Fuzz target: deltas (delta.hpp), server-wins merge (merge.hpp) and what a
// store makes of an update (detail/store_rules.hpp), for each of the twelve
// POS entity types.
//
// The first byte picks the entity type (byte % 12); bytes 2 and 3 are a
// member set (little-endian bits, one per member). The rest is up to three JSON texts separated
// by "\n---\n" (never inside valid JSON): records a and b (decoded
// leniently; E{} when they do not decode) and a delta object d.
// Invariants:
// - diff(a, a) is empty and diff(a, b) == diff(b, a);
// - applying the delta between a and b (encode_delta(b, diff(a, b)), or its
//   text, append_delta_json) to a gives b, setting exactly diff(a, b);
// - applying any d is all or nothing: on error the target is unchanged; on
//   success only the members it set changed, and applying d again changes
//   nothing more;
// - merge(local, server, m) takes the members in m from server, the others
//   from local; merge(base, base, server) == server; merge(base, local,
//   base) == local;
// - an update (updated_record) never changes id or updated_at, never moves a
//   record to another store, and reports exactly the members that changed.
#include "fuzz.hpp"

#include <incsync/delta.hpp>
#include <incsync/detail/store_rules.hpp>
#include <incsync/merge.hpp>
#include <incsync/pos/entities.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <string_view>

namespace fuzz_delta {

using namespace incsync;

template <entity E>
E record(std::string_view text)
{
    auto r = from_json_text<E>(text, lenient_decode);
    return r ? *r : E{};
}

/// Member `i` of `x` and of `y` are equal.
template <entity E>
bool same_member(const E& x, const E& y, std::size_t i)
{
    return !diff(x, y).test(i);
}

template <entity E>
void check(std::string_view text, member_set m)
{
    const auto parts = incsync_fuzz::split(text, "\n---\n");
    const E a = record<E>(parts[0]);
    const E b = parts.size() > 1 ? record<E>(parts[1]) : E{};
    const auto all = member_set::first(member_count<E>);
    m = m & all;

    // diff
    INCSYNC_FUZZ_CHECK(diff(a, a).empty());
    const auto changed = diff(a, b);
    INCSYNC_FUZZ_CHECK(changed == diff(b, a));
    INCSYNC_FUZZ_CHECK(all.contains(changed));
    INCSYNC_FUZZ_CHECK(changed.empty() == (a == b));

    // The delta between a and b, as an object and as text.
    const auto d = encode_delta(b, changed);
    INCSYNC_FUZZ_CHECK(d.size() == changed.count());
    std::string d_text;
    append_delta_json(d_text, b, changed);
    INCSYNC_FUZZ_CHECK(d_text == boost::json::serialize(d));
    const auto parsed = boost::json::parse(d_text);
    for (const auto* delta : {&d, &parsed.as_object()}) {
        E x = a;
        const auto set = apply_delta(x, *delta);
        INCSYNC_FUZZ_CHECK(set.has_value() && *set == changed);
        INCSYNC_FUZZ_CHECK(x == b);
    }

    // Any delta object.
    if (parts.size() > 2) {
        boost::system::error_code ec;
        const auto jv = boost::json::parse(parts[2], ec);
        if (!ec && jv.is_object()) {
            for (const auto& opts : {strict_decode, lenient_decode}) {
                E x = a;
                const auto set = apply_delta(x, jv.get_object(), opts);
                if (!set) {
                    INCSYNC_FUZZ_CHECK(x == a);
                    continue;
                }
                INCSYNC_FUZZ_CHECK(set->contains(diff(a, x)));
                E y = x;
                const auto again = apply_delta(y, jv.get_object(), opts);
                INCSYNC_FUZZ_CHECK(again.has_value() && *again == *set && y == x);
            }
        }
    }

    // merge
    const E merged = merge(a, b, m);
    for (std::size_t i = 0; i < member_count<E>; ++i)
        INCSYNC_FUZZ_CHECK(m.test(i) ? same_member(merged, b, i) : same_member(merged, a, i));
    INCSYNC_FUZZ_CHECK(merge(a, a, b) == b);
    INCSYNC_FUZZ_CHECK(merge(a, b, a) == b);

    // An update of a (the stored record) by b's members m.
    const auto updated = incsync::detail::updated_record(a, b, m);
    const bool moved = incsync::detail::partition_of(merge(a, b, m - incsync::detail::fixed_members<E>())) != incsync::detail::partition_of(a);
    INCSYNC_FUZZ_CHECK(updated.has_value() != moved);
    if (updated) {
        const auto& [next, members] = *updated;
        INCSYNC_FUZZ_CHECK(next.id == a.id && next.updated_at == a.updated_at);
        INCSYNC_FUZZ_CHECK(store_of(next) == store_of(a));
        INCSYNC_FUZZ_CHECK(members == diff(a, next));
        INCSYNC_FUZZ_CHECK((m - incsync::detail::fixed_members<E>()).contains(members));
    }
}

} // namespace fuzz_delta

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fuzz_delta;
    if (size < 3) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);
    const unsigned pick = data[0] % 12;
    const member_set m{data[1] | std::uint64_t{data[2]} << 8};
    unsigned i = 0;
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        if (i++ == pick) check<E>(text, m);
    });
    return 0;
}
