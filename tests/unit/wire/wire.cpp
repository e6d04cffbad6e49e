#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/wire/error_response.hpp>
#include <incsync/wire/notification.hpp>
#include <incsync/wire/pull_response.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "../fixtures.hpp"

namespace unit_wire_wire_test {

using namespace incsync;
using fixtures::named;
using pos::product;
using store_t = memory::server_store<pos::entities>;
namespace json = boost::json;

template <class E>
json::object response(const store_t& s, std::string_view since, bool delta, std::size_t limit = 1000)
{
    auto r = pull<E>(s, {since, std::nullopt, limit});
    BOOST_REQUIRE(r.has_value());
    std::string body;
    wire::append_pull_response(body, *r, delta);
    return json::parse(body).as_object();
}

BOOST_AUTO_TEST_SUITE(wire_suite)

BOOST_AUTO_TEST_CASE(pull_response_has_the_protocol_members)
{
    store_t s;
    auto a = s.create(named("A"));
    auto b = s.create(named("B"));
    (void)s.remove<product>(b->change.id);
    const auto r = response<product>(s, "", false, 1);
    BOOST_TEST(r.at("entity_type").as_string() == "product");
    BOOST_TEST(r.at("has_more").as_bool());
    BOOST_TEST(r.at("version").as_int64() == 1);
    BOOST_TEST(r.at("changes").as_array().size() == 1u);
    const auto& c = r.at("changes").as_array()[0].as_object();
    BOOST_TEST(c.at("id").as_int64() == a->change.id);
    BOOST_TEST(c.at("change_type").as_string() == "create");
    BOOST_TEST(c.at("updated_at").as_string() == format_timestamp(a->change.committed_at));
    BOOST_TEST(json::serialize(c.at("data")) == a->record->json);
    BOOST_TEST(parse_timestamp(r.at("server_time").as_string()).has_value());
    BOOST_TEST(parse_timestamp(r.at("retention_horizon").as_string()).has_value());

    const auto rest = response<product>(s, std::string(r.at("next_since").as_string()), false);
    BOOST_TEST(!rest.at("has_more").as_bool());
    BOOST_REQUIRE_EQUAL(rest.at("deleted").as_array().size(), 1u);
    BOOST_TEST(rest.at("deleted").as_array()[0].at("id").as_int64() == b->change.id);
    BOOST_TEST(rest.at("version").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(delta_sends_only_changed_members_plus_id)
{
    store_t s;
    auto a = s.create(named("A", 100));
    const auto at = response<product>(s, "", true);
    (void)s.update(a->change.id, named("A", 150), member_set{}.set(member_index<product>("price_cents")));
    (void)s.create(named("B"));
    const auto since = std::string(at.at("next_since").as_string());
    const auto r = response<product>(s, since, true);
    const auto& changes = r.at("changes").as_array();
    BOOST_REQUIRE_EQUAL(changes.size(), 2u);
    const auto& updated = changes[0].at("data").as_object();
    BOOST_TEST(updated.size() == 3u); // id, updated_at, price_cents
    BOOST_TEST(updated.at("price_cents").as_int64() == 150);
    BOOST_TEST(updated.at("id").as_int64() == a->change.id);
    BOOST_TEST(changes[1].at("data").as_object().size() == member_count<product>); // new: whole
    // Without delta, or with a timestamp since, records are whole.
    BOOST_TEST(response<product>(s, since, false).at("changes").as_array()[0].at("data").as_object().size()
               == member_count<product>);
    const auto by_time = response<product>(s, std::string(at.at("server_time").as_string()), true);
    BOOST_TEST(by_time.at("changes").as_array()[0].at("data").as_object().size() == member_count<product>);
}

BOOST_AUTO_TEST_CASE(check_response_lists_changed_types)
{
    store_t s;
    (void)s.create(named("A"));
    auto c = check(s, "", 1);
    std::string body;
    wire::append_check_response(body, *c);
    const auto r = json::parse(body).as_object();
    BOOST_TEST(json::serialize(r.at("changed")) == R"(["product"])");
    BOOST_TEST(r.at("next_since").as_string().starts_with("v1"));
}

BOOST_AUTO_TEST_CASE(notification_is_encoded_once_and_prefixed_per_connection)
{
    store_t s;
    pos::table t;
    t.store_id = 2;
    t.name = "T";
    const auto committed = s.create(t);
    const auto n = wire::make_notification(committed->change);
    BOOST_TEST((n->store_id == std::optional<std::int64_t>(2)));
    for (std::uint64_t seq : {1u, 17u, 123456789u}) {
        const wire::seq_prefix prefix(seq);
        const auto frame = std::string(prefix.view()) + n->body;
        const auto m = json::parse(frame).as_object();
        BOOST_TEST(m.at("seq").as_int64() == static_cast<std::int64_t>(seq));
        BOOST_TEST(m.at("type").as_string() == "entity_updated");
        BOOST_TEST(m.at("entity_type").as_string() == "table");
        BOOST_TEST(m.at("entity_id").as_int64() == committed->change.id);
        BOOST_TEST(m.at("change_type").as_string() == "create");
        BOOST_TEST(m.at("timestamp").as_string() == format_timestamp(committed->change.committed_at));
        BOOST_TEST(m.at("version").as_int64() == 1);
    }
    const auto del = s.remove<pos::table>(committed->change.id);
    BOOST_TEST(json::parse("{\"seq\":1," + wire::make_notification(del->change)->body).at("change_type").as_string() == "delete");
}

BOOST_AUTO_TEST_CASE(errors_map_to_status_and_code_without_internals)
{
    BOOST_TEST(wire::http_status(error::bad_cursor) == 400u);
    BOOST_TEST(wire::http_status(error::not_found) == 404u);
    BOOST_TEST(wire::http_status(error::resync_required) == 410u);
    BOOST_TEST(wire::http_status(error::immutable_member) == 409u);
    const auto body = json::parse(wire::error_json({error::unknown_member, "colour"})).as_object();
    BOOST_TEST(body.at("error").at("code").as_string() == "bad_request");
    BOOST_TEST(body.at("error").at("message").as_string() == "unknown member: colour");
    BOOST_TEST(json::parse(wire::error_json({error::resync_required})).at("error").at("code").as_string() == "resync_required");
    const auto hidden = wire::error_json({error::storage_failure, "SQLITE_CORRUPT at /var/lib/pos.sqlite3"});
    BOOST_TEST(hidden.find("sqlite") == std::string::npos);
    BOOST_TEST(hidden.find("SQLITE") == std::string::npos);
    // Control characters and quotes in a detail stay valid JSON.
    BOOST_TEST(json::parse(wire::error_json({error::unknown_member, "a\"b\n\x01"})).at("error").at("message").as_string()
               == "unknown member: a\"b\n\x01");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_wire_wire_test
