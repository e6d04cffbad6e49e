// In-memory client store: a register's local replica, for tests and
// `--db :memory:`. Each entity type has its own reader-writer lock, so the POS
// reading products is never held up by a page of categories being applied.
// It keeps images too, and local edits, which server changes merge into
// member by member (server wins).
#ifndef INCSYNC_MEMORY_CLIENT_STORE_HPP
#define INCSYNC_MEMORY_CLIENT_STORE_HPP

#include <incsync/merge.hpp>
#include <incsync/store.hpp>

#include <boost/mp11/algorithm.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace incsync::memory {

namespace detail {

template <entity E>
struct replica_table {
    mutable std::shared_mutex mutex;
    std::map<std::int64_t, E> rows;
    std::map<std::int64_t, E> edited_from; ///< locally edited rows: the server value the edit started from
    std::optional<sync_state> state;
};

} // namespace detail

/// In-memory `client_store` over the entity types of `Entities`.
/// Thread-safe; `apply` is atomic with respect to every reader.
template <entity_list_like Entities>
class client_store {
public:
    using entities = Entities;

    client_store() = default;
    client_store(const client_store&) = delete;
    client_store& operator=(const client_store&) = delete;

    /// Applies a page and its sync state as one step under the type's write
    /// lock: readers see the page entirely or not at all. Keep pages small
    /// (the sync service chunks large catch-ups) so readers wait briefly.
    /// Should allocation fail midway, the state is not updated (it is written
    /// last), so the cursor stays behind the data and re-applying the page,
    /// which is idempotent, completes it.
    template <entity E>
    result<void> apply(const page_update<E>& page)
    {
        auto& t = table_of<E>();
        std::unique_lock lock(t.mutex);
        if (page.reset) {
            t.rows.clear();
            t.edited_from.clear();
        }
        for (const auto& v : page.upserts) {
            auto base = t.edited_from.find(v.id);
            if (base == t.edited_from.end()) {
                t.rows.insert_or_assign(v.id, v);
                continue;
            }
            // Server wins where it changed a member; the local edit survives
            // in the others, and is now relative to the new server value.
            auto& row = t.rows[v.id];
            row = merge(base->second, row, v);
            base->second = v;
        }
        for (auto id : page.deletes) {
            t.rows.erase(id);
            t.edited_from.erase(id);
        }
        t.state = page.state;
        return {};
    }

    /// A local edit of a record the replica holds (a change made at the
    /// till): visible to readers at once, kept through later pulls in every
    /// member the server does not change. `error::not_found` when the record
    /// is not there.
    template <entity E>
    result<void> edit(const E& value)
    {
        auto& t = table_of<E>();
        std::unique_lock lock(t.mutex);
        auto it = t.rows.find(value.id);
        if (it == t.rows.end()) return error::not_found;
        t.edited_from.try_emplace(value.id, it->second);
        it->second = value;
        return {};
    }

    /// Number of records of `E` carrying local edits.
    template <entity E>
    std::size_t local_edits() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        return t.edited_from.size();
    }

    result<void> put_image(std::string_view type, std::int64_t id, const stored_image& image)
    {
        std::lock_guard lock(images_mutex_);
        images_.insert_or_assign({std::string(type), id}, image);
        return {};
    }

    result<void> remove_image(std::string_view type, std::int64_t id)
    {
        std::lock_guard lock(images_mutex_);
        images_.erase({std::string(type), id});
        return {};
    }

    result<std::optional<stored_image>> image(std::string_view type, std::int64_t id) const
    {
        std::lock_guard lock(images_mutex_);
        auto it = images_.find({std::string(type), id});
        if (it == images_.end()) return std::optional<stored_image>{};
        return std::optional<stored_image>{it->second};
    }

    std::size_t image_count() const
    {
        std::lock_guard lock(images_mutex_);
        return images_.size();
    }

    template <entity E>
    result<std::optional<E>> get(std::int64_t id) const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        auto it = t.rows.find(id);
        if (it == t.rows.end()) return std::optional<E>{};
        return std::optional<E>{it->second};
    }

    template <entity E>
    result<std::vector<E>> all() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        std::vector<E> out;
        out.reserve(t.rows.size());
        for (const auto& [id, v] : t.rows) out.push_back(v);
        return out;
    }

    template <entity E>
    result<std::optional<sync_state>> state() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        return t.state;
    }

    /// Number of records of `E`.
    template <entity E>
    std::size_t size() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        return t.rows.size();
    }

private:
    template <entity E>
    detail::replica_table<E>& table_of() noexcept { return std::get<detail::replica_table<E>>(tables_); }
    template <entity E>
    const detail::replica_table<E>& table_of() const noexcept { return std::get<detail::replica_table<E>>(tables_); }

    boost::mp11::mp_rename<boost::mp11::mp_transform<detail::replica_table, Entities>, std::tuple> tables_;
    mutable std::mutex images_mutex_;
    std::map<std::pair<std::string, std::int64_t>, stored_image> images_;
};

} // namespace incsync::memory

#endif
