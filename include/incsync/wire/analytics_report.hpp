// A register's sync analytics as it reports them (`POST /api/v1/sync/analytics`,
// PROTOCOL.md section 7): how its pulls went, type by type, and how its link
// has been. The client writes it from its status; the server reads it back,
// strictly enough that a bad report is a clear 400 and never a large one kept.
#ifndef INCSYNC_WIRE_ANALYTICS_REPORT_HPP
#define INCSYNC_WIRE_ANALYTICS_REPORT_HPP

#include <incsync/change.hpp>
#include <incsync/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace incsync::wire {

/// The last pull of one type: how long it took, what it brought, how it ended.
struct last_pull_report {
    double seconds = 0;
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;      ///< body bytes received (compressed when gzipped)
    std::string error = "none";   ///< `client::error_kind` name
    friend bool operator==(const last_pull_report&, const last_pull_report&) = default;
};

/// One entity type at the register.
struct type_report {
    std::string entity_type;
    version_t version = 0;        ///< the replica holds everything up to here
    bool pending = false;         ///< known or suspected to be behind
    std::uint64_t pulls = 0;      ///< successful pulls since the client started
    std::uint64_t failures = 0;   ///< failed pulls since the client started
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
    std::optional<last_pull_report> last_pull;
    friend bool operator==(const type_report&, const type_report&) = default;
};

/// What a register reports. Totals count since the client started.
struct analytics_report {
    std::int64_t cash_register_id = 0;
    std::optional<std::int64_t> store_id;
    bool online = false;
    std::string realtime = "none";         ///< websocket, long_poll or none
    std::uint64_t reconnects = 0;
    double offline_seconds = 0;            ///< time spent offline, the current spell included
    std::uint64_t notifications = 0;
    std::optional<double> last_sync_age_seconds; ///< since the last successful pull of any type
    std::vector<type_report> types;
    friend bool operator==(const analytics_report&, const analytics_report&) = default;
};

/// Limits a server holds a report to: it is kept per register, so it stays small.
inline constexpr std::size_t max_report_types = 64;
inline constexpr std::size_t max_report_name = 64;

namespace detail {

inline boost::json::object to_object(const last_pull_report& p)
{
    return {{"seconds", p.seconds}, {"records", p.records}, {"bytes", p.bytes}, {"error", p.error}};
}

inline boost::json::object to_object(const type_report& t)
{
    boost::json::object o{{"entity_type", t.entity_type}, {"version", t.version}, {"pending", t.pending},
                          {"pulls", t.pulls},             {"failures", t.failures}, {"records", t.records},
                          {"bytes", t.bytes}};
    if (t.last_pull) o["last_pull"] = to_object(*t.last_pull);
    return o;
}

// Readers of one member: absent is the default; present and wrong is an error
// naming the member.
struct report_reader {
    const boost::json::object& o;
    std::string where; ///< the path to `o` in the report, for messages

    error_info wrong(std::string_view key, std::string_view what) const
    {
        return error_info(error::wrong_type, std::string(where) + std::string(key) + " must be " + std::string(what));
    }

    result<void> count(std::string_view key, std::uint64_t& out) const
    {
        const auto* v = o.if_contains(key);
        if (!v) return {};
        if (const auto* u = v->if_uint64()) out = *u;
        else if (const auto* i = v->if_int64(); i && *i >= 0) out = static_cast<std::uint64_t>(*i);
        else return wrong(key, "a non-negative integer");
        return {};
    }

    result<void> integer(std::string_view key, std::int64_t& out) const
    {
        const auto* v = o.if_contains(key);
        if (!v) return {};
        if (const auto* i = v->if_int64()) out = *i;
        else if (const auto* u = v->if_uint64(); u && *u <= std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            out = static_cast<std::int64_t>(*u);
        else return wrong(key, "an integer");
        return {};
    }

    result<void> seconds(std::string_view key, double& out) const
    {
        const auto* v = o.if_contains(key);
        if (!v) return {};
        if (!v->is_number()) return wrong(key, "a number of seconds");
        out = v->to_number<double>();
        if (!std::isfinite(out) || out < 0) return wrong(key, "a non-negative number of seconds");
        return {};
    }

    result<void> flag(std::string_view key, bool& out) const
    {
        const auto* v = o.if_contains(key);
        if (!v) return {};
        if (!v->is_bool()) return wrong(key, "true or false");
        out = v->get_bool();
        return {};
    }

    result<void> name(std::string_view key, std::string& out) const
    {
        const auto* v = o.if_contains(key);
        if (!v) return {};
        const auto* s = v->if_string();
        if (!s || s->empty() || s->size() > max_report_name) return wrong(key, "a name of 1 to 64 characters");
        for (char c : *s)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                return wrong(key, "a name of letters, digits, '_' and '-'");
        out = std::string(*s);
        return {};
    }
};

#define INCSYNC_REPORT_TRY(expr)                                                                                       \
    if (auto r_ = (expr); !r_) return r_.error()

inline result<type_report> read_type(const boost::json::value& v, std::size_t index)
{
    const auto* o = v.if_object();
    const std::string where = "types[" + std::to_string(index) + "].";
    if (!o) return error_info(error::wrong_type, "types[" + std::to_string(index) + "] must be an object");
    report_reader r{*o, where};
    type_report t;
    if (!o->contains("entity_type")) return error_info(error::wrong_type, where + "entity_type is required");
    INCSYNC_REPORT_TRY(r.name("entity_type", t.entity_type));
    INCSYNC_REPORT_TRY(r.count("version", t.version));
    INCSYNC_REPORT_TRY(r.flag("pending", t.pending));
    INCSYNC_REPORT_TRY(r.count("pulls", t.pulls));
    INCSYNC_REPORT_TRY(r.count("failures", t.failures));
    INCSYNC_REPORT_TRY(r.count("records", t.records));
    INCSYNC_REPORT_TRY(r.count("bytes", t.bytes));
    if (const auto* lp = o->if_contains("last_pull")) {
        const auto* lo = lp->if_object();
        if (!lo) return error_info(error::wrong_type, where + "last_pull must be an object");
        report_reader l{*lo, where + "last_pull."};
        last_pull_report p;
        INCSYNC_REPORT_TRY(l.seconds("seconds", p.seconds));
        INCSYNC_REPORT_TRY(l.count("records", p.records));
        INCSYNC_REPORT_TRY(l.count("bytes", p.bytes));
        INCSYNC_REPORT_TRY(l.name("error", p.error));
        t.last_pull = std::move(p);
    }
    return t;
}

} // namespace detail

/// The report as a JSON object (a server adds members of its own to it).
inline boost::json::object to_object(const analytics_report& r)
{
    boost::json::object o{{"cash_register_id", r.cash_register_id}, {"online", r.online},
                          {"realtime", r.realtime},                 {"reconnects", r.reconnects},
                          {"offline_seconds", r.offline_seconds},   {"notifications", r.notifications}};
    if (r.store_id) o["store_id"] = *r.store_id;
    if (r.last_sync_age_seconds) o["last_sync_age_seconds"] = *r.last_sync_age_seconds;
    boost::json::array types;
    for (const auto& t : r.types) types.push_back(detail::to_object(t));
    o["types"] = std::move(types);
    return o;
}

/// The report as JSON text.
inline std::string to_json(const analytics_report& r) { return boost::json::serialize(to_object(r)); }

/// Reads a report. `cash_register_id` is required; every other member is
/// optional, unknown members are ignored (a newer client may add some), and a
/// member of the wrong type or out of range is `error::wrong_type` naming it.
inline result<analytics_report> parse_analytics_report(std::string_view json)
{
    boost::system::error_code ec;
    const auto v = boost::json::parse(json, ec);
    if (ec) return error_info(error::bad_json, ec.message());
    const auto* o = v.if_object();
    if (!o) return error::not_object;
    detail::report_reader r{*o, ""};
    analytics_report out;
    if (!o->contains("cash_register_id")) return error_info(error::wrong_type, "cash_register_id is required");
    INCSYNC_REPORT_TRY(r.integer("cash_register_id", out.cash_register_id));
    if (const auto* s = o->if_contains("store_id"); s && !s->is_null()) {
        std::int64_t store = 0;
        INCSYNC_REPORT_TRY(r.integer("store_id", store));
        out.store_id = store;
    }
    INCSYNC_REPORT_TRY(r.flag("online", out.online));
    INCSYNC_REPORT_TRY(r.name("realtime", out.realtime));
    INCSYNC_REPORT_TRY(r.count("reconnects", out.reconnects));
    INCSYNC_REPORT_TRY(r.seconds("offline_seconds", out.offline_seconds));
    INCSYNC_REPORT_TRY(r.count("notifications", out.notifications));
    if (o->contains("last_sync_age_seconds")) {
        double age = 0;
        INCSYNC_REPORT_TRY(r.seconds("last_sync_age_seconds", age));
        out.last_sync_age_seconds = age;
    }
    if (const auto* t = o->if_contains("types")) {
        const auto* a = t->if_array();
        if (!a) return error_info(error::wrong_type, "types must be an array");
        if (a->size() > max_report_types) return error_info(error::wrong_type, "types has more than 64 entries");
        for (std::size_t i = 0; i < a->size(); ++i) {
            auto type = detail::read_type((*a)[i], i);
            if (!type) return type.error();
            out.types.push_back(std::move(*type));
        }
    }
    return out;
}

#undef INCSYNC_REPORT_TRY

} // namespace incsync::wire

#endif
