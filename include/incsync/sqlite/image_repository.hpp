// Entity images in the server store's SQLite file (table `incsync_images`),
// so records and their pictures are backed up, copied and restored together.
// An upload commits before the record's `image_version` is bumped: a client
// told of the new version always finds the new image.
#ifndef INCSYNC_SQLITE_IMAGE_REPOSITORY_HPP
#define INCSYNC_SQLITE_IMAGE_REPOSITORY_HPP

#include <incsync/server/images.hpp>
#include <incsync/sqlite/detail/connection.hpp>
#include <incsync/sqlite/detail/server_schema.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace incsync::sqlite {

using detail::durability;

struct image_repository_options {
    durability sync = durability::full;
    std::size_t idle_readers = 4;
    std::chrono::milliseconds busy_timeout{5000};
    std::string vfs{};
};

namespace detail {

struct image_reader {
    connection db;
    statement get;

    result<void> prepare()
    {
        return prepare_each(db, {{&get, "SELECT content_type, etag, bytes FROM incsync_images"
                                        " WHERE type = ?1 AND id = ?2 AND rendition = ?3"}});
    }
};

} // namespace detail

/// `server::image_repository` in a server store file. Thread-safe.
class image_repository final : public server::image_repository {
public:
    using image_ptr = server::image_ptr;

    /// Opens the images of the server store in `path` (creating or upgrading
    /// the store's schema if needed, as `server_store::open` does).
    static result<std::shared_ptr<image_repository>> open(std::string path, image_repository_options options = {})
    {
        std::shared_ptr<image_repository> r(new image_repository(std::move(path), std::move(options)));
        if (auto s = r->start(); !s) return s.error();
        return r;
    }

    result<void> put(std::string_view entity_type, std::int64_t id, std::string_view rendition, image_ptr img) override
    {
        std::lock_guard lock(write_mutex_);
        auto tx = detail::transaction::begin(db_, detail::transaction::kind::immediate);
        if (!tx) return tx.error();
        if (rendition.empty()) // a new original: the other sizes showed the old one
            if (auto r = remove_locked(entity_type, id); !r) return r;
        auto u = put_.start();
        put_.bind(1, entity_type);
        put_.bind(2, id);
        put_.bind(3, rendition);
        put_.bind(4, std::string_view(img->content_type));
        put_.bind(5, std::string_view(img->etag));
        put_.bind_blob(6, img->bytes);
        if (auto r = put_.run("store an image"); !r) return r;
        return tx->commit();
    }

    result<image_ptr> get(std::string_view entity_type, std::int64_t id, std::string_view rendition) const override
    {
        auto conn = readers_.borrow();
        if (!conn) return conn.error();
        auto& s = (*conn)->get;
        for (std::string_view wanted : {rendition, std::string_view()}) {
            auto u = s.start();
            s.bind(1, entity_type);
            s.bind(2, id);
            s.bind(3, wanted);
            auto row = s.step("read an image");
            if (!row) return row.error();
            if (*row) {
                auto img = std::make_shared<server::image>();
                img->content_type = std::string(s.text(0));
                img->etag = std::string(s.text(1));
                img->bytes = std::string(s.blob(2));
                return image_ptr(std::move(img));
            }
            if (wanted.empty()) break;
        }
        return image_ptr();
    }

    result<void> remove(std::string_view entity_type, std::int64_t id) override
    {
        std::lock_guard lock(write_mutex_);
        return remove_locked(entity_type, id);
    }

private:
    image_repository(std::string path, image_repository_options options)
        : path_(std::move(path)), options_(std::move(options)),
          readers_(path_, {.busy_timeout = options_.busy_timeout, .vfs = options_.vfs}, options_.idle_readers)
    {
    }

    result<void> start()
    {
        auto c = detail::connection::open(path_, {.busy_timeout = options_.busy_timeout, .vfs = options_.vfs});
        if (!c) return c.error();
        db_ = std::move(*c);
        if (auto r = detail::configure_writer(db_, options_.sync, path_); !r) return r;
        if (auto r = detail::migrate(db_, detail::server_schema, path_); !r) return r.error();
        return detail::prepare_each(db_, {
            {&put_, "INSERT OR REPLACE INTO incsync_images VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
            {&remove_, "DELETE FROM incsync_images WHERE type = ?1 AND id = ?2"},
        });
    }

    result<void> remove_locked(std::string_view entity_type, std::int64_t id)
    {
        auto u = remove_.start();
        remove_.bind(1, entity_type);
        remove_.bind(2, id);
        return remove_.run("remove images");
    }

    std::string path_;
    image_repository_options options_;
    std::mutex write_mutex_;
    detail::connection db_;
    detail::statement put_, remove_;
    detail::reader_pool<detail::image_reader> readers_;
};

} // namespace incsync::sqlite

#endif
