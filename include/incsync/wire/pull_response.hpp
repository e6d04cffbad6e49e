// The body of a pull response (PROTOCOL.md section 2), written from a
// `pull_result` without re-encoding records: each record version's JSON was
// encoded once when it was committed and is copied from there.
#ifndef INCSYNC_WIRE_PULL_RESPONSE_HPP
#define INCSYNC_WIRE_PULL_RESPONSE_HPP

#include <incsync/delta.hpp>
#include <incsync/detail/json_writer.hpp>
#include <incsync/pull.hpp>

#include <string>
#include <string_view>

namespace incsync::wire {

/// Appends the JSON body answering a pull of `E`. With `delta`, records that
/// existed in the client's last complete view carry only the members changed
/// since (plus `id`); without a known base (a timestamp `since`) records are
/// always whole.
template <entity E>
void append_pull_response(std::string& out, const pull_result<E>& r, bool delta)
{
    using namespace std::string_view_literals; // appended with their length known: no strlen
    const auto& page = r.page;
    std::size_t size = 512 + page.deleted.size() * 64;
    for (const auto& e : page.changes) size += e.record->json.size() + 96;
    out.reserve(out.size() + size);
    const bool partial = delta && r.since.base_known;
    const member_set id_member = member_set{}.set(member_index<E>("id"));
    out.append(R"({"entity_type":)"sv);
    incsync::detail::append_json_string(out, entity_type_name<E>);
    out.append(R"(,"changes":[)"sv);
    for (std::size_t i = 0; i < page.changes.size(); ++i) {
        const auto& e = page.changes[i];
        const E& v = e.record->value;
        if (i) out.push_back(',');
        out.append(R"({"id":)"sv);
        incsync::detail::append_json_value(out, v.id);
        out.append(R"(,"change_type":")"sv);
        out.append(to_string(e.type));
        out.append(R"(","updated_at":)"sv);
        out.append(e.record->quoted_updated_at());
        out.append(R"(,"data":)"sv);
        if (partial && e.type == change_type::update) append_delta_json(out, v, e.changed | id_member);
        else out.append(e.record->json);
        out.push_back('}');
    }
    out.append(R"(],"deleted":[)"sv);
    for (std::size_t i = 0; i < page.deleted.size(); ++i) {
        if (i) out.push_back(',');
        out.append(R"({"id":)"sv);
        incsync::detail::append_json_value(out, page.deleted[i].id);
        out.append(R"(,"deleted_at":)"sv);
        incsync::detail::append_json_value(out, page.deleted[i].deleted_at);
        out.push_back('}');
    }
    out.append(R"(],"next_since":)"sv);
    incsync::detail::append_json_string(out, r.next_since);
    out.append(page.has_more ? R"(,"has_more":true,"server_time":)"sv : R"(,"has_more":false,"server_time":)"sv);
    incsync::detail::append_json_value(out, page.server_time);
    out.append(R"(,"version":)"sv);
    incsync::detail::append_json_value(out, page.high_water);
    out.append(R"(,"retention_horizon":)"sv);
    incsync::detail::append_json_value(out, page.retention_horizon);
    out.push_back('}');
}

/// Appends the JSON body answering `check`.
inline void append_check_response(std::string& out, const check_result& r)
{
    using namespace std::string_view_literals;
    out.append(R"({"changed":[)"sv);
    for (std::size_t i = 0; i < r.changed.types.size(); ++i) {
        if (i) out.push_back(',');
        incsync::detail::append_json_string(out, r.changed.types[i]);
    }
    out.append(R"(],"next_since":)"sv);
    incsync::detail::append_json_string(out, r.next_since);
    out.append(R"(,"server_time":)"sv);
    incsync::detail::append_json_value(out, r.changed.server_time);
    out.push_back('}');
}

} // namespace incsync::wire

#endif
