// The POS API as a function from request to response (PROTOCOL.md sections
// 2, 4, 5 and 6), generated from the store's entity list. It owns no socket:
// the Beast session reads a request, calls `handle`, writes the response, so
// every route is testable (and fuzzable) in process.
//
// What needs a connection lives in the Beast binding (include/incsync/beast/):
// WebSocket and SSE streams, holding a long-poll `check` open, rate limiting.
// For a long poll this handler answers "nothing yet" and says what to wait for.
#ifndef INCSYNC_SERVER_HANDLER_HPP
#define INCSYNC_SERVER_HANDLER_HPP

#include <incsync/codec.hpp>
#include <incsync/detail/gzip.hpp>
#include <incsync/detail/query_string.hpp>
#include <incsync/pull.hpp>
#include <incsync/server/analytics_table.hpp>
#include <incsync/server/auth.hpp>
#include <incsync/server/handler_metrics.hpp>
#include <incsync/server/images.hpp>
#include <incsync/store.hpp>
#include <incsync/wire/error_response.hpp>
#include <incsync/wire/pull_response.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace incsync::server {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct handler_options {
    token_table tokens;
    std::size_t max_body_bytes = 1 << 20;  ///< JSON bodies
    std::size_t max_image_bytes = 4 << 20; ///< image uploads
    /// Pull bodies of at least `gzip_min_bytes` go out gzipped to clients
    /// that send `Accept-Encoding: gzip`; smaller ones gain too little for the
    /// CPU (a notification-sized pull is a few hundred bytes).
    bool gzip = true;
    std::size_t gzip_min_bytes = 1024;
    int gzip_level = 6; ///< 1 (fastest) to 9 (smallest); docs/benchmarks.md compares them
    /// Registers whose analytics reports are kept (`POST /api/v1/sync/analytics`);
    /// when full, the one that reported least recently makes room.
    std::size_t max_analytics_registers = 10'000;
    std::size_t max_analytics_bytes = 16 << 10; ///< largest report body
    /// Where images live; null disables the image routes (404).
    std::shared_ptr<image_repository> images;
    /// Called after every committed (non-noop) write, before its response is
    /// built: the notification hub hooks in here.
    std::function<void(const change&)> on_commit;
    /// Where a failure the client only sees as `internal_error` is reported
    /// with its cause (a storage error: which file, "database or disk is
    /// full"). The Beast server points it at its own log when unset.
    std::function<void(std::string_view)> log;
};

/// Builds a JSON response.
inline response json_response(http::status status, std::string body, unsigned version = 11, bool keep_alive = true)
{
    response res{status, version};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

/// A JSON error response with the protocol's code.
inline response error_response(http::status status, std::string_view code, std::string_view message)
{
    std::string body;
    wire::append_error_json(body, code, message);
    return json_response(status, std::move(body));
}

/// 405 with the methods `allow`ed on the path in an `Allow` header.
inline response method_not_allowed(std::string_view allow, std::string_view message = "method not allowed")
{
    auto res = error_response(http::status::method_not_allowed, "method_not_allowed", message);
    res.set(http::field::allow, allow);
    return res;
}

inline response error_response(const error_info& e)
{
    const bool ours = e.code.category() == error_category();
    const auto status = ours ? static_cast<http::status>(wire::http_status(static_cast<error>(e.code.value())))
                             : http::status::internal_server_error;
    return json_response(status, wire::error_json(e));
}

/// A long-poll `check?wait=N` that found nothing changed yet: the connection
/// should wait for a notification of `store_id`'s topic (or `wait` to pass)
/// and then ask again.
struct long_poll {
    std::optional<std::int64_t> store_id;
    std::chrono::seconds wait{0};
};

/// The API over a server store. Thread-safe when `Store` is.
template <server_store Store>
class handler {
public:
    using entities = typename Store::entities;

    handler(Store& store, handler_options options)
        : store_(store), options_(std::move(options)), analytics_(options_.max_analytics_registers)
    {
    }

    /// Answers one request. Never throws for bad input: every failure is a
    /// JSON error response. When `wait` is given and the request is a
    /// long-poll `check` with nothing changed yet, sets `*wait`; the returned
    /// response is then the answer to send should the wait time out.
    /// `buffer` lends the memory for a pull's body (a connection passes back
    /// the previous response's body, so steady traffic allocates nothing).
    response handle(const request& req, std::optional<long_poll>* wait = nullptr, std::string buffer = {})
    {
        const auto t = detail::parse_target(std::string_view(req.target().data(), req.target().size()));
        return handle(req, t, wait, std::move(buffer));
    }

    /// The same, with the target already parsed (`parse_target(req.target())`).
    response handle(const request& req, const detail::target& target, std::optional<long_poll>* wait,
                    std::string buffer)
    {
        const auto start = std::chrono::steady_clock::now();
        buffer.clear();
        response res = route(req, target, wait, buffer);
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        // A long poll that waits is counted when it is answered (handled again).
        if (!(wait && *wait))
            metrics_.request(route_of(target.path), res.result_int(), std::chrono::steady_clock::now() - start);
        return res;
    }

    /// What the handler counted: requests, latencies, pulls (GET /metrics).
    const handler_metrics<entities>& metrics() const noexcept { return metrics_; }

    /// Appends the handler's families and the change log's extent to a scrape.
    void write_metrics(incsync::metrics::exposition& e) const
    {
        metrics_.write(e);
        analytics_.write(e, timestamp::now());
        auto log = store_.log_stats();
        if (!log) {
            if (options_.log) options_.log("metrics: change log stats: " + log.error().message());
            return; // a scrape without them, rather than none
        }
        e.family("incsync_change_log_entries", "gauge", "Change-log entries kept (every entity type).");
        e.sample("incsync_change_log_entries", {}, log->entries);
        e.family("incsync_change_log_high_water", "gauge", "Version of the last commit.");
        e.sample("incsync_change_log_high_water", {}, log->high_water);
        e.family("incsync_change_log_horizon_timestamp_seconds", "gauge",
                 "The purge cutoff (Unix seconds; now minus the retention, as of the last purge): a cursor older than this may get 410. 0 before the first purge.");
        e.sample("incsync_change_log_horizon_timestamp_seconds", {}, static_cast<double>(log->horizon.micros) / 1e6);
    }

    /// The registers' latest analytics reports.
    const analytics_table& analytics() const noexcept { return analytics_; }

    /// Who the request acts as, from `Authorization: Bearer`.
    std::optional<principal> authenticate(const request& req) const
    {
        auto header = req[http::field::authorization];
        auto token = bearer_token(std::string_view(header.data(), header.size()));
        return token ? options_.tokens.find(*token) : std::nullopt;
    }

    /// Who a raw token (e.g. `?token=` on a WebSocket or SSE URL) acts as.
    std::optional<principal> authenticate(std::string_view token) const { return options_.tokens.find(token); }

    const handler_options& options() const noexcept { return options_; }

    /// The tokens, to add or revoke some while the server runs.
    token_table& tokens() noexcept { return options_.tokens; }

private:
    /// The error's response; an internal one is logged with its cause first,
    /// since the response does not carry it.
    response failure(const error_info& e) const
    {
        const bool internal = e.code.category() != error_category() || e == error::storage_failure;
        if (internal && options_.log) options_.log("internal error: " + e.message());
        return error_response(e);
    }

    static constexpr std::string_view api_prefix = "/api/v1/";
    static constexpr std::string_view sync_prefix = "sync/";
    static constexpr std::string_view analytics_path = "sync/analytics";
    static constexpr std::int64_t max_wait_seconds = 60;

    response route(const request& req, const detail::target& target, std::optional<long_poll>* wait,
                   std::string& buffer)
    {
        if (!target.path.starts_with(api_prefix)) return error_response(http::status::not_found, "not_found", "no such endpoint");
        if (target.malformed) return error_response(http::status::bad_request, "bad_request", "malformed query string");
        const std::string_view rest = target.path.substr(api_prefix.size());
        const bool image = is_image_path(rest);
        if (req.body().size() > (image ? options_.max_image_bytes : options_.max_body_bytes))
            return error_response(http::status::payload_too_large, "payload_too_large", "request body too large");
        const auto who = authenticate(req);
        if (!who) return error_response(http::status::unauthorized, "unauthorized", "missing or unknown token");

        if (rest == analytics_path) return analytics_route(req, *who);
        if (rest.starts_with(sync_prefix)) {
            if (req.method() != http::verb::get) return method_not_allowed("GET");
            return sync_route(req, rest.substr(sync_prefix.size()), target, *who, wait, buffer);
        }
        // Images are global data: registers may read them (PROTOCOL.md section 5).
        const bool image_read = image && req.method() == http::verb::get;
        if (who->role != role::admin && !image_read)
            return error_response(http::status::forbidden, "forbidden", "admin token required");
        return admin_route(req, rest, target);
    }

    static bool is_image_path(std::string_view rest) noexcept { return rest.ends_with("/image"); }

    static request_route route_of(std::string_view path) noexcept
    {
        if (!path.starts_with(api_prefix)) return request_route::other;
        const auto rest = path.substr(api_prefix.size());
        if (rest == analytics_path) return request_route::analytics;
        if (!rest.starts_with(sync_prefix)) return request_route::admin;
        return rest.substr(sync_prefix.size()) == "check" ? request_route::check : request_route::pull;
    }

    // POST /api/v1/sync/analytics (a register's report) | GET (an admin reads them all)
    response analytics_route(const request& req, const principal& who)
    {
        if (req.method() == http::verb::get) {
            if (who.role != role::admin) return error_response(http::status::forbidden, "forbidden", "admin token required");
            return json_response(http::status::ok, analytics_.to_json(timestamp::now()));
        }
        if (req.method() != http::verb::post) return method_not_allowed("GET, POST");
        if (req.body().size() > options_.max_analytics_bytes)
            return error_response(http::status::payload_too_large, "payload_too_large", "analytics report too large");
        auto report = wire::parse_analytics_report(req.body());
        if (!report) return failure(report.error());
        if (who.role == role::cash_register) {
            // A register reports for its own store only.
            if (report->store_id && report->store_id != who.store_id)
                return error_response(http::status::forbidden, "forbidden", "this token is for another store");
            report->store_id = who.store_id;
        }
        analytics_.put(std::move(*report), timestamp::now());
        response res{http::status::no_content, 11};
        res.prepare_payload();
        return res;
    }

    // GET /api/v1/sync/{path} | incremental?entity_type= | check
    response sync_route(const request& req, std::string_view what, const detail::target& t, const principal& who,
                        std::optional<long_poll>* wait, std::string& buffer)
    {
        auto store_id = store_param(t);
        if (!store_id) return failure(store_id.error());
        if (who.role == role::cash_register && *store_id && *store_id != who.store_id)
            return error_response(http::status::forbidden, "forbidden", "this token is for another store");
        if (what == "check") {
            std::int64_t seconds = 0;
            if (auto w = t.get("wait")) {
                auto v = detail::parse_int64(*w);
                if (!v || *v < 0 || *v > max_wait_seconds)
                    return error_response(http::status::bad_request, "bad_request", "wait must be 0..60 seconds");
                seconds = *v;
            }
            auto r = check(store_, t.get("since").value_or(""), *store_id);
            if (!r) return failure(r.error());
            if (wait && seconds > 0 && r->changed.types.empty())
                *wait = long_poll{*store_id, std::chrono::seconds(seconds)};
            std::string body;
            wire::append_check_response(body, *r);
            return json_response(http::status::ok, std::move(body));
        }
        std::string_view type = what;
        if (what == "incremental") {
            auto param = t.get("entity_type");
            if (!param) return error_response(http::status::bad_request, "bad_request", "entity_type is required");
            type = *param;
        }
        std::optional<response> res;
        const bool known = visit_entity<entities>(type, [&]<class E>(std::type_identity<E>) {
            std::size_t records = 0;
            res = pull_endpoint<E>(t, *store_id, buffer, records);
            const bool ok = res->result() == http::status::ok;
            const std::size_t body_bytes = ok ? res->body().size() : 0;
            if (ok) compress(req, *res);
            metrics_.template pull<E>(res->result_int(), records, body_bytes, ok ? res->body().size() : 0);
        });
        if (known) return std::move(*res);
        if (what == "incremental") return error_response(error_info(error::unknown_entity_type, std::string(type)));
        return error_response(http::status::not_found, "not_found", "no such endpoint");
    }

    template <entity E>
    response pull_endpoint(const detail::target& t, std::optional<std::int64_t> store_id, std::string& body,
                           std::size_t& records)
    {
        std::size_t limit = default_page_limit;
        if (auto l = t.get("limit")) {
            auto v = detail::parse_int64(*l);
            if (!v || *v < 1 || *v > static_cast<std::int64_t>(max_page_limit)) return error_response(error::bad_limit);
            limit = static_cast<std::size_t>(*v);
        }
        bool delta = false;
        if (auto d = t.get("delta")) {
            if (*d == "true" || *d == "1") delta = true;
            else if (*d != "false" && *d != "0" && !d->empty())
                return error_response(http::status::bad_request, "bad_request", "delta must be true or false");
        }
        auto r = pull<E>(store_, {t.get("since").value_or(""), store_id, limit});
        if (!r) return failure(r.error());
        records = r->page.changes.size() + r->page.deleted.size();
        wire::append_pull_response(body, *r, delta);
        return json_response(http::status::ok, std::move(body));
    }

    /// Gzips a pull's body when the client accepts it and it is large enough.
    void compress(const request& req, response& res) const
    {
        res.set(http::field::vary, "Accept-Encoding"); // the body depends on it
        if (!options_.gzip || res.body().size() < options_.gzip_min_bytes) return;
        const auto accept = req[http::field::accept_encoding];
        if (!detail::accepts_gzip(std::string_view(accept.data(), accept.size()))) return;
        // Compressed into this thread's scratch, then copied back: the body
        // keeps the buffer the connection lent, so steady traffic still
        // allocates nothing.
        thread_local std::string gz;
        if (!detail::gzip_compress(res.body(), gz, options_.gzip_level)) return; // plain is still an answer
        res.body().assign(gz);
        res.set(http::field::content_encoding, "gzip");
        res.prepare_payload();
    }

    // /api/v1/{path} and /api/v1/{path}/{id}
    response admin_route(const request& req, std::string_view rest, const detail::target& t)
    {
        const auto slash = rest.find('/');
        const std::string_view path = rest.substr(0, slash);
        std::optional<std::string_view> id_text =
            slash == std::string_view::npos ? std::nullopt : std::optional(rest.substr(slash + 1));
        const bool image = id_text && is_image_path(*id_text);
        if (image) id_text->remove_suffix(std::string_view("/image").size());
        std::optional<response> res;
        const bool known = visit_entity<entities>(path, [&]<class E>(std::type_identity<E>) {
            if (entity_path<E> != path) return; // admin routes use the path segment only
            if (!image) res = id_text ? one_record<E>(req, *id_text) : collection<E>(req, t);
            else if constexpr (has_image<E>) res = image_route<E>(req, *id_text, t);
        });
        if (known && res) return std::move(*res);
        return error_response(http::status::not_found, "not_found", "no such endpoint");
    }

    template <entity E>
    response collection(const request& req, const detail::target& t)
    {
        if (req.method() == http::verb::get) {
            auto store_id = store_param(t);
            if (!store_id) return failure(store_id.error());
            auto rows = store_.template list<E>(*store_id);
            if (!rows) return failure(rows.error());
            std::string body = "[";
            for (std::size_t i = 0; i < rows->size(); ++i) {
                if (i) body.push_back(',');
                body.append((*rows)[i]->json);
            }
            body.push_back(']');
            return json_response(http::status::ok, std::move(body));
        }
        if (req.method() != http::verb::post) return method_not_allowed("GET, POST");
        auto obj = body_object(req);
        if (!obj) return failure(obj.error());
        auto value = from_json<E>(*obj, create_decode);
        if (!value) return failure(value.error());
        return committed(store_.template create<E>(*value), http::status::created);
    }

    template <entity E>
    response one_record(const request& req, std::string_view id_text)
    {
        const auto id = detail::parse_int64(id_text);
        if (!id) return error_response(http::status::not_found, "not_found", "no such record");
        switch (req.method()) {
        case http::verb::get: {
            auto r = store_.template get<E>(*id);
            if (!r) return failure(r.error());
            return json_response(http::status::ok, (*r)->json);
        }
        case http::verb::patch: {
            auto obj = body_object(req);
            if (!obj) return failure(obj.error());
            E changes{};
            auto members = decode_members(changes, *obj, strict_decode);
            if (!members) return failure(members.error());
            return committed(store_.template update<E>(*id, changes, *members), http::status::ok);
        }
        case http::verb::put: {
            auto obj = body_object(req);
            if (!obj) return failure(obj.error());
            auto value = from_json<E>(*obj, create_decode);
            if (!value) return failure(value.error());
            return committed(store_.template update<E>(*id, *value, member_set::first(member_count<E>)),
                             http::status::ok);
        }
        case http::verb::delete_: {
            auto r = store_.template remove<E>(*id);
            if (!r) return failure(r.error());
            if constexpr (has_image<E>)
                if (options_.images)
                    // The record is gone either way; an image left behind is
                    // unreachable garbage (its id is never reused), not a loss.
                    (void)options_.images->remove(entity_type_name<E>, *id);
            notify(r->change);
            response res{http::status::no_content, 11};
            res.prepare_payload();
            return res;
        }
        default: return method_not_allowed("GET, PATCH, PUT, DELETE");
        }
    }

    // PUT|GET /api/v1/{path}/{id}/image[?size=N]
    template <has_image E>
    response image_route(const request& req, std::string_view id_text, const detail::target& t)
    {
        const auto id = detail::parse_int64(id_text);
        if (!options_.images || !id) return error_response(http::status::not_found, "not_found", "no such record");
        std::string_view rendition = t.get("size").value_or("");
        if (!rendition.empty()) {
            auto size = detail::parse_int64(rendition);
            if (!size || *size < 1 || *size > 4096)
                return error_response(http::status::bad_request, "bad_request", "size must be 1..4096 pixels");
        }
        if (req.method() == http::verb::get) {
            auto found = options_.images->get(entity_type_name<E>, *id, rendition);
            if (!found) return failure(found.error());
            const image_ptr& img = *found;
            if (!img) return error_response(http::status::not_found, "not_found", "no image");
            const auto inm = req[http::field::if_none_match];
            const bool fresh = etag_matches(std::string_view(inm.data(), inm.size()), img->etag);
            response res{fresh ? http::status::not_modified : http::status::ok, 11};
            res.set(http::field::etag, img->etag);
            res.set(http::field::cache_control, "no-cache");
            if (!fresh) {
                res.set(http::field::content_type, img->content_type);
                // Uploaded SVG must not run as a page of this origin.
                res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
                res.set("X-Content-Type-Options", "nosniff");
                res.body() = img->bytes;
            }
            res.prepare_payload();
            return res;
        }
        if (req.method() != http::verb::put) return method_not_allowed("GET, PUT");
        auto img = make_image(req.body());
        if (!img)
            return error_response(http::status::unsupported_media_type, "unsupported_media_type",
                                  "body is not a PNG, JPEG, GIF, WebP or SVG image");
        // One upload at a time: the version bump reads, then writes.
        std::lock_guard lock(image_mutex_);
        auto current = store_.template get<E>(*id);
        if (!current) return failure(current.error());
        if (!rendition.empty()) { // another size of the current image: no new version
            if (auto stored = options_.images->put(entity_type_name<E>, *id, rendition, std::move(img)); !stored)
                return failure(stored.error());
            return json_response(http::status::ok, (*current)->json);
        }
        E changes = (*current)->value;
        // An admin may have written the largest version: refuse before storing.
        if (changes.image_version == std::numeric_limits<decltype(changes.image_version)>::max())
            return error_response(http::status::conflict, "conflict", "image_version is at its maximum");
        changes.image_url = std::string(api_prefix) + std::string(entity_path<E>) + '/' + std::to_string(*id) + "/image";
        changes.image_version += 1;
        if (auto stored = options_.images->put(entity_type_name<E>, *id, "", std::move(img)); !stored)
            return failure(stored.error());
        member_set members;
        members.set(member_index<E>("image_url"));
        members.set(member_index<E>("image_version"));
        return committed(store_.template update<E>(*id, changes, members), http::status::ok);
    }

    template <entity E>
    response committed(const result<commit<E>>& r, http::status status)
    {
        if (!r) return failure(r.error());
        if (!r->is_noop()) notify(r->change);
        return json_response(status, r->record->json);
    }

    void notify(const change& c)
    {
        if (options_.on_commit) options_.on_commit(c);
    }

    /// The body as a JSON object without `id` and `updated_at`, which the
    /// server assigns (PROTOCOL.md section 4).
    static result<boost::json::object> body_object(const request& req)
    {
        boost::system::error_code ec;
        auto jv = boost::json::parse(req.body(), ec);
        if (ec) return error_info(error::bad_json, ec.message());
        auto* obj = jv.if_object();
        if (!obj) return error::not_object;
        obj->erase("id");
        obj->erase("updated_at");
        return std::move(*obj);
    }

    static result<std::optional<std::int64_t>> store_param(const detail::target& t)
    {
        auto s = t.get("store_id");
        if (!s || s->empty()) return std::optional<std::int64_t>{};
        auto v = detail::parse_int64(*s);
        if (!v) return error_info(error::wrong_type, "store_id");
        return std::optional<std::int64_t>{*v};
    }


    Store& store_;
    handler_options options_;
    std::mutex image_mutex_;
    handler_metrics<entities> metrics_;
    analytics_table analytics_;
};

} // namespace incsync::server

#endif
