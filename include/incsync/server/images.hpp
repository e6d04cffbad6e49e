// Entity images (PROTOCOL.md section 4): bytes stored per record and size
// rendition, served with a strong ETag so a client revalidates with one 304.
//
// Any entity with `image_url` and `image_version` members gets the image
// routes; for the POS binding that is `product`. The repository is abstract
// so a durable backend (SQLite) plugs in without touching the handler.
#ifndef INCSYNC_SERVER_IMAGES_HPP
#define INCSYNC_SERVER_IMAGES_HPP

#include <incsync/entity.hpp>
#include <incsync/detail/http_list.hpp>
#include <incsync/error.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace incsync::server {

/// True for entities whose records carry an image (`image_url`, `image_version`).
template <class E>
concept has_image = entity<E> && member_index<E>("image_url") < member_count<E>
                 && member_index<E>("image_version") < member_count<E>;

/// One stored image. Immutable once stored; shared by every response sending it.
struct image {
    std::string content_type;
    std::string bytes;
    std::string etag; ///< strong, quoted: `"9f86d081884c7d65"`
};
using image_ptr = std::shared_ptr<const image>;

/// Where images live. `rendition` is a size such as "110", or "" for the
/// uploaded original. Implementations must be thread-safe.
class image_repository {
public:
    virtual ~image_repository() = default;
    /// Stores `img` for (type, id, rendition). Storing the original drops the
    /// record's other renditions: they showed the previous image.
    virtual result<void> put(std::string_view entity_type, std::int64_t id, std::string_view rendition, image_ptr img) = 0;
    /// The rendition asked for, else the original, else null.
    virtual result<image_ptr> get(std::string_view entity_type, std::int64_t id, std::string_view rendition) const = 0;
    /// Removes every rendition of the record (its tombstone removes its image).
    virtual result<void> remove(std::string_view entity_type, std::int64_t id) = 0;
};

/// Images in memory. Thread-safe.
class memory_image_repository final : public image_repository {
public:
    result<void> put(std::string_view entity_type, std::int64_t id, std::string_view rendition, image_ptr img) override
    {
        std::lock_guard lock(mutex_);
        if (rendition.empty()) erase_all(entity_type, id);
        images_[key{std::string(entity_type), id, std::string(rendition)}] = std::move(img);
        return {};
    }

    result<image_ptr> get(std::string_view entity_type, std::int64_t id, std::string_view rendition) const override
    {
        std::lock_guard lock(mutex_);
        if (auto it = images_.find(key_view(entity_type, id, rendition)); it != images_.end()) return it->second;
        if (auto it = images_.find(key_view(entity_type, id, {})); it != images_.end())
            return it->second;
        return nullptr;
    }

    result<void> remove(std::string_view entity_type, std::int64_t id) override
    {
        std::lock_guard lock(mutex_);
        erase_all(entity_type, id);
        return {};
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return images_.size();
    }

private:
    using key = std::tuple<std::string, std::int64_t, std::string>;
    using key_view = std::tuple<std::string_view, std::int64_t, std::string_view>;

    // Looks keys up by views, without copying them. Compares views, not a
    // tuple of strings with a tuple of views: Clang 14 cannot compare those
    // through libstdc++ 12's tuple operator<=>.
    struct key_less {
        using is_transparent = void;
        static key_view view(const key& k) noexcept { return {std::get<0>(k), std::get<1>(k), std::get<2>(k)}; }
        static const key_view& view(const key_view& k) noexcept { return k; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept { return view(a) < view(b); }
    };

    void erase_all(std::string_view entity_type, std::int64_t id)
    {
        auto first = images_.lower_bound(key_view(entity_type, id, {}));
        auto last = first;
        while (last != images_.end() && std::get<0>(last->first) == entity_type && std::get<1>(last->first) == id)
            ++last;
        images_.erase(first, last);
    }

    mutable std::mutex mutex_;
    std::map<key, image_ptr, key_less> images_;
};

/// The image formats accepted on upload, recognised by their first bytes so a
/// mislabelled or garbage upload is refused. Returns the content type, or
/// nullopt when `bytes` is none of PNG, JPEG, GIF, WebP or SVG.
inline std::optional<std::string_view> sniff_image_type(std::string_view bytes) noexcept
{
    using namespace std::string_view_literals;
    if (bytes.starts_with("\x89PNG\r\n\x1a\n"sv)) return "image/png";
    if (bytes.starts_with("\xff\xd8\xff"sv)) return "image/jpeg";
    if (bytes.starts_with("GIF87a"sv) || bytes.starts_with("GIF89a"sv)) return "image/gif";
    if (bytes.size() >= 12 && bytes.starts_with("RIFF"sv) && bytes.substr(8, 4) == "WEBP"sv) return "image/webp";
    auto text = bytes.substr(0, 512);
    if (text.starts_with("\xef\xbb\xbf"sv)) text.remove_prefix(3);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t'))
        text.remove_prefix(1);
    if ((text.starts_with("<svg"sv) || text.starts_with("<?xml"sv)) && text.find("<svg"sv) != std::string_view::npos)
        return "image/svg+xml";
    return std::nullopt;
}

/// A strong ETag from the bytes (FNV-1a 64): equal images, equal tags, so a
/// re-upload of the same picture still answers 304.
inline std::string image_etag(std::string_view bytes)
{
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(18, '"');
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(1 + i)] = hex[(h >> (60 - 4 * i)) & 15];
    return out;
}

/// Builds an image, checking its bytes; nullopt when they are not an image.
inline image_ptr make_image(std::string bytes)
{
    auto type = sniff_image_type(bytes);
    if (!type) return nullptr;
    auto img = std::make_shared<image>();
    img->content_type = std::string(*type);
    img->etag = image_etag(bytes);
    img->bytes = std::move(bytes);
    return img;
}

/// True when an `If-None-Match` header value matches `etag` (weak comparison,
/// RFC 9110 section 13.1.2: `W/` prefixes are ignored; `*` matches anything).
inline bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept
{
    while (!if_none_match.empty()) {
        auto item = incsync::detail::next_item(if_none_match, ',');
        if (item == "*") return true;
        if (item.starts_with("W/")) item.remove_prefix(2);
        if (item == etag) return true;
    }
    return false;
}

} // namespace incsync::server

#endif
