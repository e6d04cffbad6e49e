// The storage concepts: what a server needs from its store, and what a client
// needs from its local replica. Backends: `incsync/memory/` (in-memory, here),
// SQLite and PostgreSQL (their own folders). `incsync/testing/conformance.hpp`
// checks any backend against the invariants.
#ifndef INCSYNC_STORE_HPP
#define INCSYNC_STORE_HPP

#include <incsync/change.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>

#include <boost/mp11/algorithm.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace incsync {

/// Default and maximum number of records in one page.
inline constexpr std::size_t default_page_limit = 1000;
inline constexpr std::size_t max_page_limit = 10000;

/// "Changes of one entity type after `after`, as seen by `store_id`".
struct change_query {
    version_t after = 0;  ///< scan position: entries with a greater version
    /// The last complete view the reader holds (<= after): a record created
    /// after it is a `create`, and `changed` names members changed after it.
    version_t base = 0;
    std::optional<std::int64_t> store_id; ///< required for store-scoped types
    std::size_t limit = default_page_limit; ///< 1..max_page_limit
};

/// A record that changed after the query's `after`, at its latest version.
template <entity E>
struct change_entry {
    version_t version = 0;
    record_ptr<E> record;
    change_type type = change_type::update; ///< create: the record did not exist at `base`
    member_set changed; ///< members changed after `base` (all, for a create)
};

/// A record deleted after the query's `after`.
struct tombstone {
    std::int64_t id = 0;
    timestamp deleted_at;
    version_t version = 0;

    friend bool operator==(const tombstone&, const tombstone&) = default;
};

/// One page of changes. Each id appears at most once, in `changes` or in
/// `deleted`, at its latest version; entries are in version order.
template <entity E>
struct change_page {
    std::vector<change_entry<E>> changes;
    std::vector<tombstone> deleted;
    version_t next = 0;       ///< where the next page starts (`after` of the next query)
    bool has_more = false;    ///< true: ask again at once from `next`
    version_t high_water = 0; ///< once applied (and !has_more) the view holds everything up to here
    timestamp retention_horizon; ///< older `since` timestamps get resync_required
    timestamp server_time;    ///< safe as a `since`: no later commit has an earlier timestamp
};

/// The change log's extent, for monitoring (`GET /metrics`).
struct change_log_stats {
    std::uint64_t entries = 0;  ///< entries kept (every type)
    version_t high_water = 0;   ///< version of the last commit
    timestamp horizon;          ///< entries committed before it were purged; zero while nothing was
};

/// Which entity types changed after a version, for one view (the `check` endpoint).
struct changed_types {
    std::vector<std::string_view> types;
    version_t next = 0;
    timestamp server_time;
};

/// A server store for one entity type `E`.
///
/// Writes are transactions: the record and its change-log entry commit together,
/// each commit gets the next version in commit order and a commit timestamp
/// strictly greater than every timestamp handed out before (commit timestamps,
/// `server_time`), and `updated_at` is that timestamp. `update` copies the
/// members in `members` from `value` onto the stored record (`id` and
/// `updated_at` are never taken from input). Reads return `error::not_found`,
/// `error::resync_required` (cursor older than the tombstone retention) or
/// `error::storage_failure` as they apply.
template <class S, class E>
concept server_store_for = entity<E>
    && requires(S& s, const S& cs, const E& value, std::int64_t id, member_set members,
                const change_query& q, std::optional<std::int64_t> store, timestamp t) {
    { s.template create<E>(value) } -> std::same_as<result<commit<E>>>;
    { s.template update<E>(id, value, members) } -> std::same_as<result<commit<E>>>;
    { s.template remove<E>(id) } -> std::same_as<result<commit<E>>>;
    { cs.template get<E>(id) } -> std::same_as<result<record_ptr<E>>>;
    /// `store`: for store-scoped types that store's records (all when nullopt);
    /// for mixed scope the global rows plus that store's; ignored for global types.
    { cs.template list<E>(store) } -> std::same_as<result<std::vector<record_ptr<E>>>>;
    { cs.template changes<E>(q) } -> std::same_as<result<change_page<E>>>;
    /// The greatest version whose commit timestamp is <= t; `since_in_future`
    /// when t is ahead of the server's clock, `resync_required` when t is older
    /// than the retention horizon of E's tombstones.
    { cs.template version_at<E>(t) } -> std::same_as<result<version_t>>;
};

namespace detail {
template <class S>
struct store_covers {
    template <class E>
    using fn = std::bool_constant<server_store_for<S, E>>;
};
} // namespace detail

/// A server store: `server_store_for` every type of `S::entities`, plus the
/// store-wide operations.
template <class S>
concept server_store = entity_list_like<typename S::entities>
    && boost::mp11::mp_all_of_q<typename S::entities, detail::store_covers<S>>::value
    && requires(const S& cs, version_t v, std::optional<std::int64_t> store) {
    /// Identity of the store's data: changes if the data is replaced (a
    /// restarted in-memory store), so old cursors get resync_required.
    { cs.epoch() } -> std::same_as<std::uint64_t>;
    { cs.high_water() } -> std::same_as<result<version_t>>;
    { cs.changed_since(v, store) } -> std::same_as<result<changed_types>>;
    { cs.log_stats() } -> std::same_as<result<change_log_stats>>;
};

/// The plan's `sync_state` row: per entity type, how far the replica is.
struct sync_state {
    std::string entity_type;
    std::optional<timestamp> last_sync_timestamp; ///< when the last pull completed (client clock)
    version_t sync_version = 0; ///< the server's `version` the replica holds everything up to
    std::string cursor;         ///< the `next_since` to send on the next pull

    friend bool operator==(const sync_state&, const sync_state&) = default;
};

/// A page of changes to apply to a replica together with its new sync state.
template <entity E>
struct page_update {
    bool reset = false;             ///< drop every record of E first (resync from scratch)
    std::vector<E> upserts;         ///< whole records (deltas already applied)
    std::vector<std::int64_t> deletes;
    sync_state state;
};

/// A client (replica) store for one entity type `E`. `apply` is atomic: the
/// records and the sync state commit together or not at all, so the cursor is
/// never ahead of the data.
template <class S, class E>
concept client_store_for = entity<E>
    && requires(S& s, const S& cs, const page_update<E>& page, std::int64_t id) {
    { s.template apply<E>(page) } -> std::same_as<result<void>>;
    { cs.template get<E>(id) } -> std::same_as<result<std::optional<E>>>;
    { cs.template all<E>() } -> std::same_as<result<std::vector<E>>>; ///< ordered by id
    { cs.template state<E>() } -> std::same_as<result<std::optional<sync_state>>>;
};

namespace detail {
template <class S>
struct client_store_covers {
    template <class E>
    using fn = std::bool_constant<client_store_for<S, E>>;
};
} // namespace detail

/// A client store: `client_store_for` every type of `S::entities`.
template <class S>
concept client_store = entity_list_like<typename S::entities>
    && boost::mp11::mp_all_of_q<typename S::entities, detail::client_store_covers<S>>::value;

/// An image a replica keeps for a record (a product's picture), tied to the
/// record's `image_version` so a new version replaces it.
struct stored_image {
    std::int64_t version = 0; ///< the record's `image_version` it shows
    std::string etag;         ///< the server's ETag, sent back as If-None-Match
    std::string content_type;
    std::string bytes;

    friend bool operator==(const stored_image&, const stored_image&) = default;
};

/// Entity types with images: an `std::int64_t image_version` member, bumped by
/// the server whenever the image changes.
template <class E>
concept has_image = entity<E> && detail::member_has_type<E, std::int64_t>("image_version");

/// A client store that also keeps images, keyed by entity type and id.
template <class S>
concept client_image_store = requires(S& s, const S& cs, std::string_view type, std::int64_t id,
                                      const stored_image& image) {
    { s.put_image(type, id, image) } -> std::same_as<result<void>>;
    { s.remove_image(type, id) } -> std::same_as<result<void>>;
    { cs.image(type, id) } -> std::same_as<result<std::optional<stored_image>>>;
};

} // namespace incsync

#endif
