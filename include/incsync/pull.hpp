// The pull: "changes of type E since X for store S, at most N", over any
// server store, with `since` as the protocol has it (empty, cursor, timestamp).
// The server's handlers and the conformance kit both go through here.
#ifndef INCSYNC_PULL_HPP
#define INCSYNC_PULL_HPP

#include <incsync/cursor.hpp>
#include <incsync/store.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace incsync {

struct pull_request {
    std::string_view since;               ///< empty, a `next_since` cursor, or RFC 3339
    std::optional<std::int64_t> store_id; ///< required for store-scoped types
    std::size_t limit = default_page_limit;
};

/// Where a `since` puts a reader.
struct since_resolution {
    version_t after = 0; ///< scan position
    version_t base = 0;  ///< last complete view the reader holds
    /// False when `since` was a timestamp: the reader may be in the middle of a
    /// catch-up we cannot see, so its true base is unknown and records must be
    /// sent whole even when deltas were asked for.
    bool base_known = true;
};

template <entity E>
struct pull_result {
    change_page<E> page;
    std::string next_since; ///< cursor for the next pull
    since_resolution since; ///< what the request's `since` resolved to
};

/// The store a view of `E` is keyed by: none for global types.
template <entity E>
constexpr std::optional<std::int64_t> view_store(std::optional<std::int64_t> store_id) noexcept
{
    if constexpr (entity_scope<E> == scope::global) return std::nullopt;
    else return store_id;
}

/// Resolves a `since` string to the position after which to read.
/// Errors: bad_timestamp, bad_cursor (garbled, or ahead of the store),
/// cursor_mismatch (another type or store), resync_required (another store
/// epoch, or older than retention), since_in_future.
template <entity E, server_store Store>
result<since_resolution> resolve_since(const Store& store, std::string_view since,
                                       std::optional<std::int64_t> store_id)
{
    auto pos = parse_since(since);
    if (!pos) return pos.error();
    if (const auto* t = std::get_if<timestamp>(&*pos)) {
        auto v = store.template version_at<E>(*t);
        if (!v) return v.error();
        return since_resolution{*v, *v, false};
    }
    const auto* c = std::get_if<cursor>(&*pos);
    if (!c) return since_resolution{};
    if (c->epoch != store.epoch())
        return error_info(error::resync_required, "cursor was issued by another store epoch");
    if (c->tag != cursor_tag(entity_type_name<E>) || c->store_id != view_store<E>(store_id))
        return error::cursor_mismatch;
    auto high = store.high_water();
    if (!high) return high.error();
    if (c->version > *high) return error_info(error::bad_cursor, "cursor is ahead of the server");
    return since_resolution{c->version, c->base, true};
}

/// One page of changes of `E` for the view of `request.store_id`.
template <entity E, server_store Store>
result<pull_result<E>> pull(const Store& store, const pull_request& request)
{
    if (entity_scope<E> == scope::store && !request.store_id) return error::store_id_required;
    if (request.limit < 1 || request.limit > max_page_limit) return error::bad_limit;
    auto since = resolve_since<E>(store, request.since, request.store_id);
    if (!since) return since.error();
    auto page = store.template changes<E>(change_query{since->after, since->base, request.store_id, request.limit});
    if (!page) return page.error();
    pull_result<E> out{std::move(*page), {}, *since};
    // Mid catch-up the base stays where the catch-up began; once complete the
    // view is whole up to `next`.
    const version_t base = out.page.has_more ? since->base : out.page.next;
    out.next_since = encode_cursor(
        {store.epoch(), out.page.next, base, cursor_tag(entity_type_name<E>), view_store<E>(request.store_id)});
    return out;
}

/// The `check` endpoint: which types changed since a `check` cursor (or timestamp).
struct check_result {
    changed_types changed;
    std::string next_since;
};

inline constexpr std::string_view all_types_tag = "*";

template <server_store Store>
result<check_result> check(const Store& store, std::string_view since, std::optional<std::int64_t> store_id)
{
    auto pos = parse_since(since);
    if (!pos) return pos.error();
    version_t after = 0;
    if (const auto* t = std::get_if<timestamp>(&*pos)) {
        // Any type's horizon will do: a check only names types, and a type whose
        // tombstones were purged answers resync_required on its own pull.
        using first = boost::mp11::mp_front<typename Store::entities>;
        auto v = store.template version_at<first>(*t);
        if (!v && !(v.error() == error::resync_required)) return v.error();
        after = v ? *v : 0;
    } else if (const auto* c = std::get_if<cursor>(&*pos)) {
        if (c->epoch != store.epoch()) return error_info(error::resync_required, "cursor was issued by another store epoch");
        if (c->tag != cursor_tag(all_types_tag) || c->store_id != store_id) return error::cursor_mismatch;
        auto high = store.high_water();
        if (!high) return high.error();
        if (c->version > *high) return error_info(error::bad_cursor, "cursor is ahead of the server");
        after = c->version;
    }
    auto changed = store.changed_since(after, store_id);
    if (!changed) return changed.error();
    check_result out{std::move(*changed), {}};
    out.next_since = encode_cursor({store.epoch(), out.changed.next, out.changed.next, cursor_tag(all_types_tag), store_id});
    return out;
}

} // namespace incsync

#endif
