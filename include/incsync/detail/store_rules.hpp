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
