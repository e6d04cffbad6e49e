// The POS API as a function from request to response (PROTOCOL.md sections
// 2, 4, 5 and 6), generated from the store's entity list. It owns no socket:
// the Beast session reads a request, calls `handle`, writes the response, so
// every route is testable (and fuzzable) in process.
//
// Not here yet (issue 3): long-poll waiting (`check` answers at once), the
// WebSocket and SSE streams, images, rate limiting. They belong to the
// session and the notification hub, which call into this handler.
#ifndef INCSYNC_SERVER_HANDLER_HPP
#define INCSYNC_SERVER_HANDLER_HPP

#include <incsync/codec.hpp>
#include <incsync/detail/query_string.hpp>
#include <incsync/pull.hpp>
#include <incsync/server/auth.hpp>
#include <incsync/store.hpp>
#include <incsync/wire/error_response.hpp>
#include <incsync/wire/pull_response.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace incsync::server {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct handler_options {
    token_table tokens;
    std::size_t max_body_bytes = 1 << 20;
    /// Called after every committed (non-noop) write, before its response is
    /// built: the notification hub hooks in here.
    std::function<void(const change&)> on_commit;
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

inline response error_response(const error_info& e)
{
    const bool ours = e.code.category() == error_category();
    const auto status = ours ? static_cast<http::status>(wire::http_status(static_cast<error>(e.code.value())))
                             : http::status::internal_server_error;
    return json_response(status, wire::error_json(e));
}

/// The API over a server store. Thread-safe when `Store` is.
template <server_store Store>
class handler {
public:
    using entities = typename Store::entities;

    handler(Store& store, handler_options options) : store_(store), options_(std::move(options)) {}

    /// Answers one request. Never throws for bad input: every failure is a
    /// JSON error response.
    response handle(const request& req)
    {
        response res = route(req);
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        return res;
    }

    /// Who the request acts as, from `Authorization: Bearer`.
    std::optional<principal> authenticate(const request& req) const
    {
        auto header = req[http::field::authorization];
        auto token = bearer_token(std::string_view(header.data(), header.size()));
        return token ? options_.tokens.find(*token) : std::nullopt;
    }

private:
    static constexpr std::string_view api_prefix = "/api/v1/";
    static constexpr std::string_view sync_prefix = "sync/";

    response route(const request& req)
    {
        const auto target = detail::parse_target(std::string_view(req.target().data(), req.target().size()));
        if (!target.path.starts_with(api_prefix)) return error_response(http::status::not_found, "not_found", "no such endpoint");
        if (target.malformed) return error_response(http::status::bad_request, "bad_request", "malformed query string");
        if (req.body().size() > options_.max_body_bytes)
            return error_response(http::status::payload_too_large, "payload_too_large", "request body too large");
        const auto who = authenticate(req);
        if (!who) return error_response(http::status::unauthorized, "unauthorized", "missing or unknown token");

        std::string_view rest = target.path.substr(api_prefix.size());
        if (rest.starts_with(sync_prefix)) {
            if (req.method() != http::verb::get) return method_not_allowed("GET");
            return sync_route(rest.substr(sync_prefix.size()), target, *who);
        }
        if (who->role != role::admin) return error_response(http::status::forbidden, "forbidden", "admin token required");
        return admin_route(req, rest, target);
    }

    // GET /api/v1/sync/{path} | incremental?entity_type= | check
    response sync_route(std::string_view what, const detail::target& t, const principal& who)
    {
        auto store_id = store_param(t);
        if (!store_id) return error_response(store_id.error());
        if (who.role == role::cash_register && *store_id && *store_id != who.store_id)
            return error_response(http::status::forbidden, "forbidden", "this token is for another store");
        if (what == "check") {
            if (auto wait = t.get("wait")) {
                auto w = detail::parse_int64(*wait);
                if (!w || *w < 0 || *w > 60)
                    return error_response(http::status::bad_request, "bad_request", "wait must be 0..60 seconds");
            }
            auto r = check(store_, t.get("since").value_or(""), *store_id);
            if (!r) return error_response(r.error());
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
            res = pull_endpoint<E>(t, *store_id);
        });
        if (known) return std::move(*res);
        if (what == "incremental") return error_response(error_info(error::unknown_entity_type, std::string(type)));
        return error_response(http::status::not_found, "not_found", "no such endpoint");
    }

    template <entity E>
    response pull_endpoint(const detail::target& t, std::optional<std::int64_t> store_id)
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
        if (!r) return error_response(r.error());
        std::string body;
        body.reserve(256 + r->page.changes.size() * 256);
        wire::append_pull_response(body, *r, delta);
        return json_response(http::status::ok, std::move(body));
    }

    // /api/v1/{path} and /api/v1/{path}/{id}
    response admin_route(const request& req, std::string_view rest, const detail::target& t)
    {
        const auto slash = rest.find('/');
        const std::string_view path = rest.substr(0, slash);
        const std::optional<std::string_view> id_text =
            slash == std::string_view::npos ? std::nullopt : std::optional(rest.substr(slash + 1));
        std::optional<response> res;
        const bool known = visit_entity<entities>(path, [&]<class E>(std::type_identity<E>) {
            if (entity_path<E> != path) return; // admin routes use the path segment only
            res = id_text ? one_record<E>(req, *id_text) : collection<E>(req, t);
        });
        if (known && res) return std::move(*res);
        return error_response(http::status::not_found, "not_found", "no such endpoint");
    }

    template <entity E>
    response collection(const request& req, const detail::target& t)
    {
        if (req.method() == http::verb::get) {
            auto store_id = store_param(t);
            if (!store_id) return error_response(store_id.error());
            auto rows = store_.template list<E>(*store_id);
            if (!rows) return error_response(rows.error());
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
        if (!obj) return error_response(obj.error());
        auto value = from_json<E>(*obj, create_decode);
        if (!value) return error_response(value.error());
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
            if (!r) return error_response(r.error());
            return json_response(http::status::ok, (*r)->json);
        }
        case http::verb::patch: {
            auto obj = body_object(req);
            if (!obj) return error_response(obj.error());
            E changes{};
            auto members = decode_members(changes, *obj, strict_decode);
            if (!members) return error_response(members.error());
            return committed(store_.template update<E>(*id, changes, *members), http::status::ok);
        }
        case http::verb::put: {
            auto obj = body_object(req);
            if (!obj) return error_response(obj.error());
            auto value = from_json<E>(*obj, create_decode);
            if (!value) return error_response(value.error());
            return committed(store_.template update<E>(*id, *value, member_set::first(member_count<E>)),
                             http::status::ok);
        }
        case http::verb::delete_: {
            auto r = store_.template remove<E>(*id);
            if (!r) return error_response(r.error());
            notify(r->change);
            response res{http::status::no_content, 11};
            res.prepare_payload();
            return res;
        }
        default: return method_not_allowed("GET, PATCH, PUT, DELETE");
        }
    }

    template <entity E>
    response committed(const result<commit<E>>& r, http::status status)
    {
        if (!r) return error_response(r.error());
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

    static response method_not_allowed(std::string_view allow)
    {
        auto res = error_response(http::status::method_not_allowed, "method_not_allowed", "method not allowed");
        res.set(http::field::allow, allow);
        return res;
    }

    Store& store_;
    handler_options options_;
};

} // namespace incsync::server

#endif
