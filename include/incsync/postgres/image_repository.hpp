// Entity images in the PostgreSQL store's schema (table `incsync_images`), so
// every instance serves the same pictures and a backup holds records and
// images together. An upload commits before the record's `image_version` is
// bumped: a client told of the new version, by any instance, finds the image.
#ifndef INCSYNC_POSTGRES_IMAGE_REPOSITORY_HPP
#define INCSYNC_POSTGRES_IMAGE_REPOSITORY_HPP

#include <incsync/postgres/detail/connection.hpp>
#include <incsync/postgres/detail/schema.hpp>
#include <incsync/server/images.hpp>

#include <memory>
#include <string>

namespace incsync::postgres {

struct image_repository_options {
    std::string schema = "incsync"; ///< the store's
    std::size_t idle_connections = 4;
};

namespace detail {

struct image_session {
    connection db;
    statement get, put, remove;

    result<void> prepare()
    {
        return prepare_each(db, "incsync_image_", {
            {&get, "SELECT content_type, etag, bytes FROM incsync_images WHERE type = $1 AND id = $2 AND rendition = $3"},
            {&put, "INSERT INTO incsync_images VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (type, id, rendition)"
                   " DO UPDATE SET content_type = excluded.content_type, etag = excluded.etag, bytes = excluded.bytes"},
            {&remove, "DELETE FROM incsync_images WHERE type = $1 AND id = $2"},
        });
    }
};

} // namespace detail

/// `server::image_repository` in a PostgreSQL store's schema. Thread-safe.
class image_repository final : public server::image_repository {
public:
    using image_ptr = server::image_ptr;

    /// Opens the images of the store at `conninfo` (creating or upgrading the
    /// schema if needed, as `server_store::open` does).
    static result<std::shared_ptr<image_repository>> open(std::string conninfo, image_repository_options options = {})
    {
        std::shared_ptr<image_repository> r(new image_repository(std::move(conninfo), options));
        auto c = detail::connection::open(r->conninfo_);
        if (!c) return c.error();
        if (auto m = detail::migrate(*c, options.schema); !m) return m.error();
        return r;
    }

    result<void> put(std::string_view entity_type, std::int64_t id, std::string_view rendition, image_ptr img) override
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto& s = **conn;
        auto tx = detail::transaction::begin(s.db, "BEGIN");
        if (!tx) return tx.error();
        if (rendition.empty()) // a new original: the other sizes showed the old one
            if (auto r = s.db.run(s.remove, {entity_type, id}, "remove images"); !r) return r.error();
        if (auto r = s.db.run(s.put,
                              {entity_type, id, rendition, std::string_view(img->content_type),
                               std::string_view(img->etag), std::string_view(img->bytes)},
                              "store an image");
            !r)
            return r.error();
        return tx->commit();
    }

    result<image_ptr> get(std::string_view entity_type, std::int64_t id, std::string_view rendition) const override
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto& s = **conn;
        for (std::string_view wanted : {rendition, std::string_view()}) {
            auto rows = s.db.run(s.get, {entity_type, id, wanted}, "read an image");
            if (!rows) return rows.error();
            if (!rows->empty()) {
                auto img = std::make_shared<server::image>();
                img->content_type = std::string(rows->text(0, 0));
                img->etag = std::string(rows->text(0, 1));
                img->bytes = std::string(rows->text(0, 2));
                return image_ptr(std::move(img));
            }
            if (wanted.empty()) break;
        }
        return image_ptr();
    }

    result<void> remove(std::string_view entity_type, std::int64_t id) override
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        if (auto r = (*conn)->db.run((*conn)->remove, {entity_type, id}, "remove images"); !r) return r.error();
        return {};
    }

private:
    image_repository(std::string conninfo, const image_repository_options& options)
        : conninfo_(std::move(conninfo)),
          pool_(conninfo_, "SET search_path TO " + detail::quote_identifier(options.schema), options.idle_connections)
    {
    }

    std::string conninfo_;
    detail::session_pool<detail::image_session> pool_;
};

} // namespace incsync::postgres

#endif
