// Static files beside the sync API: the web POS page (examples/web/) served
// by the same port, so the page, its pulls and its WebSocket share one origin
// (no CORS, and the register token never leaves that origin).
#ifndef INCSYNC_SERVER_STATIC_FILES_HPP
#define INCSYNC_SERVER_STATIC_FILES_HPP

#include <incsync/server/handler.hpp>
#include <incsync/server/images.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace incsync::server {

/// Serves the regular files under one directory for GET and HEAD. Files are
/// read when asked, so an edited page shows on reload. What is not served
/// (the caller answers 404): anything but a plain path of visible names
/// (no `..`, no `.hidden` segment, no percent escape or backslash), a
/// directory without `index.html`, a symbolic link leading out of the
/// directory, a file over `max_file_bytes`.
class static_files {
public:
    explicit static_files(std::filesystem::path root, std::size_t max_file_bytes = 8 << 20)
        : max_file_bytes_(max_file_bytes)
    {
        std::error_code ec;
        root_ = std::filesystem::canonical(root, ec);
        if (ec) root_.clear(); // serves nothing; the caller can tell with root()
    }

    /// The directory served (canonical), empty when it does not exist.
    const std::filesystem::path& root() const noexcept { return root_; }

    /// The response for `path` (the target without its query), or nullopt
    /// when no file here answers it.
    std::optional<response> serve(const request& req, std::string_view path) const
    {
        if (root_.empty() || (req.method() != http::verb::get && req.method() != http::verb::head)) return std::nullopt;
        auto file = resolve(path);
        if (!file) return std::nullopt;
        auto bytes = read(*file);
        if (!bytes) return std::nullopt;

        const auto etag = image_etag(*bytes); // a content hash: an unchanged file answers 304
        const auto inm = req[http::field::if_none_match];
        const bool fresh = etag_matches(std::string_view(inm.data(), inm.size()), etag);
        response res{fresh ? http::status::not_modified : http::status::ok, req.version()};
        res.set(http::field::content_type, content_type(file->extension().string()));
        res.set(http::field::etag, etag);
        res.set(http::field::cache_control, "no-cache"); // revalidate: a new page version shows at once
        res.set("X-Content-Type-Options", "nosniff");
        if (file->extension() == ".html") res.set("Content-Security-Policy", page_policy);
        res.keep_alive(req.keep_alive());
        if (fresh) return res;
        res.content_length(bytes->size());
        if (req.method() == http::verb::get) res.body() = std::move(*bytes);
        return res;
    }

    /// The Content-Type sent for a file extension (".js").
    static std::string_view content_type(std::string_view extension) noexcept
    {
        struct entry { std::string_view extension, type; };
        static constexpr entry types[] = {
            {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
            {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
            {".json", "application/json"},          {".webmanifest", "application/manifest+json"},
            {".svg", "image/svg+xml"},              {".png", "image/png"},
            {".jpg", "image/jpeg"},                 {".jpeg", "image/jpeg"},
            {".webp", "image/webp"},                {".ico", "image/x-icon"},
            {".txt", "text/plain; charset=utf-8"},  {".woff2", "font/woff2"},
        };
        for (const auto& t : types)
            if (t.extension == extension) return t.type;
        return "application/octet-stream";
    }

    /// Pages may load only what their own origin serves: scripts, styles and
    /// connections (pulls, the WebSocket) to this server, images from it or
    /// made in the page (blob: object URLs of cached product images).
    static constexpr std::string_view page_policy =
        "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

private:
    std::optional<std::filesystem::path> resolve(std::string_view path) const
    {
        if (path.empty() || path.front() != '/') return std::nullopt;
        path.remove_prefix(1);
        auto file = root_;
        while (!path.empty()) {
            const auto slash = path.find('/');
            const auto segment = path.substr(0, slash);
            path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
            if (segment.empty() && path.empty()) break; // a trailing slash
            if (!plain_name(segment)) return std::nullopt;
            file /= segment;
        }
        std::error_code ec;
        if (std::filesystem::is_directory(file, ec)) file /= "index.html";
        auto real = std::filesystem::canonical(file, ec);
        if (ec || !std::filesystem::is_regular_file(real, ec) || !inside_root(real)) return std::nullopt;
        return real;
    }

    static bool plain_name(std::string_view segment) noexcept
    {
        if (segment.empty() || segment.front() == '.') return false; // "..", ".git", "//"
        for (char c : segment)
            if (c == '%' || c == '\\' || c == ':' || static_cast<unsigned char>(c) < 0x20) return false;
        return true;
    }

    bool inside_root(const std::filesystem::path& real) const
    {
        auto r = root_.begin();
        auto p = real.begin();
        for (; r != root_.end(); ++r, ++p)
            if (p == real.end() || *p != *r) return false;
        return true;
    }

    std::optional<std::string> read(const std::filesystem::path& file) const
    {
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        if (ec || size > max_file_bytes_) return std::nullopt;
        std::ifstream in(file, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return std::nullopt;
        return bytes;
    }

    std::filesystem::path root_;
    std::size_t max_file_bytes_;
};

} // namespace incsync::server

#endif
