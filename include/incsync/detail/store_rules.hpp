// What every server store backend does the same way: how records are
// partitioned into views (global rows, one store's rows), which members a
// write may not set, and what an update makes of the stored record. Shared so
// the memory and SQLite stores (and PostgreSQL later) cannot drift apart.
#ifndef INCSYNC_DETAIL_STORE_RULES_HPP
#define INCSYNC_DETAIL_STORE_RULES_HPP

#include <incsync/change.hpp>
#include <incsync/delta.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>
#include <incsync/store.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace incsync::detail {

/// The partition of global rows; store rows are partitioned by store_id.
inline constexpr std::int64_t global_partition = std::numeric_limits<std::int64_t>::min();

template <entity E>
std::int64_t partition_of(const E& v) noexcept
{
    return store_of(v).value_or(global_partition);
}

/// Whether a row of `partition` belongs to the view of `store` (all rows
/// when nullopt): for store-scoped types that store's rows, for mixed scope
/// the global rows too, for global types everything.
template <entity E>
bool in_view(std::int64_t partition, std::optional<std::int64_t> store) noexcept
{
    if constexpr (entity_scope<E> == scope::global) return true;
    else if constexpr (entity_scope<E> == scope::store) return !store || partition == *store;
    else return !store || partition == global_partition || partition == *store;
}

template <entity E>
inline constexpr std::size_t updated_at_index = member_index<E>("updated_at");

/// `id` and `updated_at`: the store sets them, never input.
template <entity E>
constexpr member_set fixed_members() noexcept
{
    return member_set{}.set(member_index<E>("id")).set(updated_at_index<E>);
}

/// An update of `old`: `members` of `value` copied onto it (less the fixed
/// ones), and the members that actually changed (empty: a no-op). Moving a
/// record to another store is `immutable_member`.
template <entity E>
result<std::pair<E, member_set>> updated_record(const E& old, const E& value, member_set members)
{
    E next = old;
    assign_members(next, value, members - fixed_members<E>());
    if (partition_of(next) != partition_of(old)) return error_info(error::immutable_member, "store_id");
    member_set changed = diff(old, next);
    return std::pair{std::move(next), changed};
}

/// What an update that changed nothing returns: the record as it is, at its
/// current version, with no members changed (not logged, not notified).
template <entity E>
commit<E> unchanged(version_t version, std::int64_t id, const record_ptr<E>& current)
{
    const E& v = current->value;
    return commit<E>{{version, entity_type_name<E>, id, store_of(v), change_type::update, {}, v.updated_at}, current};
}

/// An update committed at `version`: `changed` gains `updated_at`, and each
/// changed member's last-change version moves to `version`.
template <entity E, std::size_t N>
void mark_changed(member_set& changed, std::array<version_t, N>& member_versions, version_t version) noexcept
{
    changed.set(updated_at_index<E>);
    for (std::size_t i = 0; i < N; ++i)
        if (changed.test(i)) member_versions[i] = version;
}

/// A commit's version and timestamp, handed out under the store's write lock.
struct commit_stamp {
    version_t version = 0;
    timestamp at;
};

/// A record as a durable store's write path reads it back.
template <entity E>
struct stored_row {
    record_ptr<E> current; ///< null once deleted
    std::int64_t partition = 0;
    version_t version = 0;
    version_t created = 0;
    bool deleted = false;
    std::array<version_t, member_count<E>> member_versions{};
};

/// Per-member versions as the durable stores keep them: 8 bytes
/// little-endian each (SQLite BLOB, PostgreSQL bytea).
template <std::size_t N>
std::string encode_versions(const std::array<version_t, N>& v)
{
    std::string out(N * 8, '\0');
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<char>((v[i] >> (8 * b)) & 0xff);
    return out;
}

template <std::size_t N>
std::array<version_t, N> decode_versions(std::string_view s)
{
    std::array<version_t, N> v{};
    // A type that gained members since the row was written: the new ones
    // count as changed with the row's creation (version 0 is never > base).
    for (std::size_t i = 0; i < N && i * 8 + 8 <= s.size(); ++i)
        for (std::size_t b = 0; b < 8; ++b)
            v[i] |= version_t{static_cast<unsigned char>(s[i * 8 + b])} << (8 * b);
    return v;
}

/// A change-log row of a durable store back as a `change`: the type name
/// points at the entity's static name; nullopt for an unknown change kind.
template <class Entities>
std::optional<change> logged_change(version_t version, std::string_view type, std::int64_t id,
                                    std::optional<std::int64_t> store, std::string_view kind, std::uint64_t changed,
                                    timestamp committed_at)
{
    auto k = parse_change_type(kind);
    if (!k) return std::nullopt;
    change c{version, {}, id, store, *k, member_set(changed), committed_at};
    for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
        if (entity_type_name<E> == type) c.entity_type = entity_type_name<E>;
    });
    return c;
}

/// A page entry as a reader whose last complete view is at `base` needs it:
/// a create if the record was created after `base`, else an update naming
/// the members changed after `base`.
template <entity E, std::size_t N>
change_entry<E> entry_since(version_t version, record_ptr<E> record, version_t created,
                            const std::array<version_t, N>& member_versions, version_t base)
{
    change_entry<E> e{version, std::move(record), change_type::update, {}};
    if (created > base) {
        e.type = change_type::create;
        e.changed = member_set::first(N);
    } else {
        for (std::size_t i = 0; i < N; ++i)
            if (member_versions[i] > base) e.changed.set(i);
    }
    return e;
}

} // namespace incsync::detail

#endif
