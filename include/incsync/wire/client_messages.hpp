// What a client reads from the server (PROTOCOL.md sections 2 and 3): pull
// pages, `check` answers and real-time messages, decoded leniently (members a
// newer server adds are ignored) and checked for what the client relies on.
#ifndef INCSYNC_WIRE_CLIENT_MESSAGES_HPP
#define INCSYNC_WIRE_CLIENT_MESSAGES_HPP

#include <incsync/codec.hpp>
#include <incsync/store.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace incsync::wire {

/// A decoded pull response of `E`.
template <entity E>
struct pulled_page {
    std::vector<E> upserts;             ///< whole records, in the server's order
    std::vector<std::int64_t> deletes;
    std::string next_since;
    bool has_more = false;
    version_t version = 0;              ///< high-water mark (PROTOCOL.md section 2)
    std::optional<timestamp> server_time;
};

namespace detail {

inline const boost::json::object* object_member(const boost::json::object& o, std::string_view key)
{
    const auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

inline const boost::json::array* array_member(const boost::json::object& o, std::string_view key)
{
    const auto* v = o.if_contains(key);
    return v ? v->if_array() : nullptr;
}

inline std::optional<std::int64_t> int_member(const boost::json::object& o, std::string_view key)
{
    const auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    return std::nullopt;
}

inline std::optional<std::string_view> string_member(const boost::json::object& o, std::string_view key)
{
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string_view(v->get_string());
}

inline result<boost::json::value> parse_object(std::string_view text, boost::json::storage_ptr sp = {})
{
    boost::system::error_code ec;
    auto jv = boost::json::parse(text, ec, std::move(sp));
    if (ec) return error_info(error::bad_json, ec.message());
    if (!jv.is_object()) return error::not_object;
    return jv;
}

} // namespace detail

/// Decodes a 200 answer to a pull of `E`. Errors name what was wrong.
template <entity E>
result<pulled_page<E>> decode_pull_response(std::string_view body)
{
    // The parse tree lives only for this call: a monotonic arena makes it one
    // allocation per few kilobytes instead of one per node.
    boost::json::monotonic_resource arena;
    auto jv = detail::parse_object(body, &arena);
    if (!jv) return jv.error();
    const auto& o = jv->get_object();
    auto type = detail::string_member(o, "entity_type");
    if (!type || *type != entity_type_name<E>) return error_info(error::wrong_type, "entity_type");
    const auto* changes = detail::array_member(o, "changes");
    const auto* deleted = detail::array_member(o, "deleted");
    auto next = detail::string_member(o, "next_since");
    auto version = detail::int_member(o, "version");
    const auto* more = o.if_contains("has_more");
    if (!changes) return error_info(error::missing_member, "changes");
    if (!deleted) return error_info(error::missing_member, "deleted");
    if (!next) return error_info(error::missing_member, "next_since");
    if (!version || *version < 0) return error_info(error::missing_member, "version");
    if (!more || !more->is_bool()) return error_info(error::missing_member, "has_more");

    pulled_page<E> page;
    page.next_since = std::string(*next);
    page.has_more = more->get_bool();
    page.version = static_cast<version_t>(*version);
    if (auto t = detail::string_member(o, "server_time")) {
        if (auto ts = parse_timestamp(*t)) page.server_time = *ts;
    }
    page.upserts.reserve(changes->size());
    for (const auto& c : *changes) {
        const auto* entry = c.if_object();
        const auto* data = entry ? detail::object_member(*entry, "data") : nullptr;
        if (!data) return error_info(error::missing_member, "changes[].data");
        E value{};
        auto r = decode_members(value, *data, lenient_decode);
        if (!r) return r.error();
        if (!r->test(member_index<E>("id"))) return error_info(error::missing_member, "changes[].data.id");
        page.upserts.push_back(std::move(value));
    }
    page.deletes.reserve(deleted->size());
    for (const auto& d : *deleted) {
        const auto* entry = d.if_object();
        auto id = entry ? detail::int_member(*entry, "id") : std::nullopt;
        if (!id) return error_info(error::missing_member, "deleted[].id");
        page.deletes.push_back(*id);
    }
    return page;
}

/// A decoded `check` answer.
struct check_answer {
    std::vector<std::string> changed; ///< entity types
    std::string next_since;
};

inline result<check_answer> decode_check_response(std::string_view body)
{
    auto jv = detail::parse_object(body);
    if (!jv) return jv.error();
    const auto& o = jv->get_object();
    const auto* changed = detail::array_member(o, "changed");
    auto next = detail::string_member(o, "next_since");
    if (!changed) return error_info(error::missing_member, "changed");
    if (!next) return error_info(error::missing_member, "next_since");
    check_answer out;
    out.next_since = std::string(*next);
    for (const auto& t : *changed) {
        if (!t.is_string()) return error_info(error::wrong_type, "changed[]");
        out.changed.emplace_back(t.get_string());
    }
    return out;
}

/// A real-time message (WebSocket text frame or SSE data line).
struct stream_message {
    enum class kind { entity_updated, catch_up, pong, error, other };
    kind type = kind::other;
    std::optional<std::uint64_t> seq;
    std::string entity_type;
    std::int64_t entity_id = 0;
    version_t version = 0; ///< 0 when the server did not say
};

inline result<stream_message> decode_stream_message(std::string_view text)
{
    auto jv = detail::parse_object(text);
    if (!jv) return jv.error();
    const auto& o = jv->get_object();
    stream_message m;
    if (auto seq = detail::int_member(o, "seq"); seq && *seq >= 0) m.seq = static_cast<std::uint64_t>(*seq);
    auto type = detail::string_member(o, "type");
    if (!type) return error_info(error::missing_member, "type");
    if (*type == "entity_updated") {
        auto et = detail::string_member(o, "entity_type");
        if (!et) return error_info(error::missing_member, "entity_type");
        m.type = stream_message::kind::entity_updated;
        m.entity_type = std::string(*et);
        m.entity_id = detail::int_member(o, "entity_id").value_or(0);
        if (auto v = detail::int_member(o, "version"); v && *v > 0) m.version = static_cast<version_t>(*v);
    } else if (*type == "catch_up") {
        m.type = stream_message::kind::catch_up;
    } else if (*type == "pong") {
        m.type = stream_message::kind::pong;
    } else if (*type == "error") {
        m.type = stream_message::kind::error;
    }
    return m;
}

/// `code` of a JSON error body (PROTOCOL.md section 6), or "" when it is not one.
inline std::string error_code_of(std::string_view body)
{
    auto jv = detail::parse_object(body);
    if (!jv) return {};
    const auto* err = detail::object_member(jv->get_object(), "error");
    if (!err) return {};
    return std::string(detail::string_member(*err, "code").value_or(""));
}

} // namespace incsync::wire

#endif
