// Pull over HTTP (PROTOCOL.md section 2): every entity type, both URL forms,
// paging, deltas, timestamps, tombstones and bad parameters.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <incsync/detail/gzip.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

namespace integration_pull_test {

using namespace it;

const std::set<std::string> pull_members{"entity_type", "changes",     "deleted", "next_since",
                                         "has_more",    "server_time", "version", "retention_horizon"};

std::string store_query(const wire_type& t, std::string_view store = "1")
{
    return t.scope == wire_scope::global ? std::string() : "&store_id=" + std::string(store);
}

// The three URLs that pull one type: by path, and by `entity_type=` name or path.
std::vector<std::string> pull_urls(const wire_type& t, const std::string& query)
{
    return {"/api/v1/sync/" + std::string(t.path) + "?" + query,
            "/api/v1/sync/incremental?entity_type=" + std::string(t.name) + "&" + query,
            "/api/v1/sync/incremental?entity_type=" + std::string(t.path) + "&" + query};
}

// Follows next_since from the beginning to has_more=false; the ids of every
// change, in order, and the final cursor.
struct full_pull {
    std::vector<std::int64_t> ids;
    std::string cursor;
    int pages = 0;
    bool ok = true;
};

full_pull pull_all(http_client& c, const std::string& base, std::size_t limit)
{
    full_pull out;
    std::string since;
    for (int guard = 0; guard < 1000; ++guard) {
        auto r = c.get(base + "&limit=" + std::to_string(limit) + "&since=" + since);
        if (r.status != 200) {
            BOOST_TEST(r.status == 200u, r.body());
            out.ok = false;
            return out;
        }
        const auto v = r.json().as_object();
        ++out.pages;
        const auto& changes = v.at("changes").as_array();
        BOOST_TEST(changes.size() + v.at("deleted").as_array().size() <= limit);
        for (const auto& ch : changes) out.ids.push_back(ch.at("id").as_int64());
        since = std::string(v.at("next_since").as_string());
        if (!v.at("has_more").as_bool()) break;
        BOOST_TEST(changes.size() == limit); // a page short of the limit is the last one
    }
    out.cursor = since;
    return out;
}

BOOST_FIXTURE_TEST_SUITE(pull_suite, server_fixture)

BOOST_AUTO_TEST_CASE(every_type_answers_exactly_the_protocol_members_by_path_and_by_entity_type)
{
    seed();
    auto c = http();
    for (const auto& t : wire_types()) {
        BOOST_TEST_CONTEXT("entity type " << t.name)
        {
            std::vector<json::array> seen;
            for (const auto& url : pull_urls(t, store_query(t))) {
                BOOST_TEST_CONTEXT(url)
                {
                    auto r = c.get(url);
                    BOOST_TEST_REQUIRE(r.status == 200u, r.body());
                    BOOST_TEST(r.header("Content-Type") == "application/json");
                    const auto v = r.json();
                    BOOST_TEST_REQUIRE(v.is_object());
                    const auto& o = v.as_object();
                    BOOST_TEST(keys(o) == pull_members, boost::test_tools::per_element());
                    BOOST_TEST(o.at("entity_type") == json::value(t.name));
                    BOOST_TEST(o.at("next_since").is_string());
                    BOOST_TEST(!o.at("next_since").as_string().empty());
                    BOOST_TEST(o.at("has_more") == json::value(false));
                    BOOST_TEST(is_wire_timestamp(o.at("server_time")));
                    BOOST_TEST(is_wire_timestamp(o.at("retention_horizon")));
                    BOOST_TEST(o.at("version").is_int64());
                    BOOST_TEST(o.at("deleted").as_array().empty());
                    const auto& changes = o.at("changes").as_array();
                    BOOST_TEST(!changes.empty()); // the demo catalog has every type
                    for (const auto& ch : changes) {
                        BOOST_TEST(keys(ch) == (std::set<std::string>{"id", "change_type", "updated_at", "data"}),
                                   boost::test_tools::per_element());
                        BOOST_TEST(ch.at("change_type") == json::value("create"));
                        BOOST_TEST(is_wire_timestamp(ch.at("updated_at")));
                        const auto& data = ch.at("data").as_object();
                        BOOST_TEST(data.at("id") == ch.at("id"));
                        BOOST_TEST(data.at("updated_at") == ch.at("updated_at"));
                        for (auto field : t.fields) BOOST_TEST(data.contains(field), "missing member " << field);
                        if (t.scope == wire_scope::store) BOOST_TEST(data.at("store_id") == json::value(1));
                        if (t.scope == wire_scope::mixed)
                            BOOST_TEST((data.at("store_id").is_null() || data.at("store_id") == json::value(1)));
                    }
                    seen.push_back(changes);
                }
            }
            // One code path behind all three spellings.
            BOOST_TEST(seen.size() == 3u);
            if (seen.size() == 3u) {
                BOOST_TEST(seen[0] == seen[1]);
                BOOST_TEST(seen[0] == seen[2]);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(store_scoped_types_without_store_id_are_bad_requests)
{
    seed();
    auto c = http();
    for (const auto& t : wire_types()) {
        if (t.scope != wire_scope::store) continue;
        for (const auto& url : pull_urls(t, "")) {
            auto r = c.get(url);
            BOOST_TEST(r.status == 400u, url << ": " << r.body());
            BOOST_TEST(r.is_error("bad_request"), url << ": " << r.body());
        }
    }
    // Settings are global rows plus, with store_id, that store's rows.
    auto global = c.get("/api/v1/sync/settings");
    BOOST_TEST_REQUIRE(global.status == 200u);
    for (const auto& ch : global.json().at("changes").as_array()) BOOST_TEST(ch.at("data").at("store_id").is_null());
    auto store2 = c.get("/api/v1/sync/settings?store_id=2");
    BOOST_TEST_REQUIRE(store2.status == 200u);
    std::size_t store_rows = 0;
    for (const auto& ch : store2.json().at("changes").as_array()) {
        const auto& s = ch.at("data").at("store_id");
        BOOST_TEST((s.is_null() || s == json::value(2)));
        store_rows += !s.is_null();
    }
    BOOST_TEST(store_rows > 0u);
    BOOST_TEST(store2.json().at("changes").as_array().size()
               == global.json().at("changes").as_array().size() + store_rows);
}

BOOST_AUTO_TEST_CASE(paging_follows_next_since_and_gets_every_record_exactly_once)
{
    auto c = http();
    std::set<std::int64_t> created;
    for (int i = 0; i < 25; ++i)
        created.insert(create(c, "products", R"({"name":"P)" + std::to_string(i) + R"(","price_cents":100})"));
    for (std::size_t limit : {1u, 7u, 25u, 1000u}) {
        BOOST_TEST_CONTEXT("limit " << limit)
        {
            auto all = pull_all(c, "/api/v1/sync/products?x=1", limit);
            BOOST_TEST(all.ok);
            BOOST_TEST(all.ids.size() == created.size()); // no repeats ...
            BOOST_TEST((std::set<std::int64_t>(all.ids.begin(), all.ids.end()) == created)); // ... and no gaps
            BOOST_TEST(all.pages == static_cast<int>((created.size() + limit - 1) / limit));
            // Caught up: the same cursor now gives nothing ...
            auto again = c.get("/api/v1/sync/products?since=" + all.cursor);
            BOOST_TEST_REQUIRE(again.status == 200u);
            BOOST_TEST(again.json().at("changes").as_array().empty());
            BOOST_TEST(again.json().at("has_more") == json::value(false));
        }
    }
    // ... until something changes: exactly that record comes next.
    auto all = pull_all(c, "/api/v1/sync/products?x=1", 10);
    const auto id = *std::next(created.begin(), 3);
    auto patched = c.send(http::verb::patch, "/api/v1/products/" + std::to_string(id), R"({"price_cents":150})");
    BOOST_TEST_REQUIRE(patched.status == 200u, patched.body());
    auto next = c.get("/api/v1/sync/products?since=" + all.cursor);
    BOOST_TEST_REQUIRE(next.status == 200u);
    const auto& changes = next.json().at("changes").as_array();
    BOOST_TEST_REQUIRE(changes.size() == 1u);
    BOOST_TEST(changes[0].at("id") == json::value(id));
    BOOST_TEST(changes[0].at("change_type") == json::value("update"));
    BOOST_TEST(changes[0].at("data").at("price_cents") == json::value(150));
    BOOST_TEST(next.json().at("version").as_int64() == static_cast<std::int64_t>(*store.high_water()));
}

BOOST_AUTO_TEST_CASE(paging_of_a_store_view_merges_global_and_store_rows_exactly_once)
{
    auto c = http();
    std::set<std::int64_t> store1;
    for (int i = 0; i < 6; ++i) {
        store1.insert(create(c, "settings", R"({"key":"g)" + std::to_string(i) + R"(","value":"x"})"));
        store1.insert(create(c, "settings", R"({"key":"s)" + std::to_string(i) + R"(","value":"y","store_id":1})"));
        (void)create(c, "settings", R"({"key":"t)" + std::to_string(i) + R"(","value":"z","store_id":2})");
    }
    auto all = pull_all(c, "/api/v1/sync/settings?store_id=1", 4);
    BOOST_TEST(all.ok);
    BOOST_TEST(all.ids.size() == store1.size());
    BOOST_TEST((std::set<std::int64_t>(all.ids.begin(), all.ids.end()) == store1));
}

BOOST_AUTO_TEST_CASE(delta_gives_only_the_changed_members_and_new_records_whole)
{
    auto c = http();
    const auto id = create(c, "products", R"({"name":"Latte","sku":"L1","price_cents":320,"is_active":true})");
    auto first = c.get("/api/v1/sync/products");
    BOOST_TEST_REQUIRE(first.status == 200u);
    const std::string cursor(first.json().at("next_since").as_string());

    BOOST_TEST_REQUIRE(c.send(http::verb::patch, "/api/v1/products/" + std::to_string(id), R"({"price_cents":340})").status
                       == 200u);
    const auto added = create(c, "products", R"({"name":"Mocha","price_cents":360})");

    auto delta = c.get("/api/v1/sync/products?delta=true&since=" + cursor);
    BOOST_TEST_REQUIRE(delta.status == 200u, delta.body());
    const auto& changes = delta.json().at("changes").as_array();
    BOOST_TEST_REQUIRE(changes.size() == 2u);
    BOOST_TEST(changes[0].at("id") == json::value(id));
    BOOST_TEST(changes[0].at("change_type") == json::value("update"));
    BOOST_TEST(keys(changes[0].at("data")) == (std::set<std::string>{"id", "price_cents", "updated_at"}),
               boost::test_tools::per_element());
    BOOST_TEST(changes[0].at("data").at("price_cents") == json::value(340));
    BOOST_TEST(changes[1].at("id") == json::value(added));
    BOOST_TEST(changes[1].at("change_type") == json::value("create"));
    for (auto field : wire_type_named("product").fields) BOOST_TEST(changes[1].at("data").as_object().contains(field));

    // Without delta the same pull sends whole records.
    auto whole = c.get("/api/v1/sync/products?since=" + cursor);
    BOOST_TEST_REQUIRE(whole.status == 200u);
    BOOST_TEST(whole.json().at("changes").at(0).at("data").at("name") == json::value("Latte"));
    BOOST_TEST(c.get("/api/v1/sync/products?delta=false&since=" + cursor).body().size() == whole.body().size());
    BOOST_TEST(c.get("/api/v1/sync/products?delta=maybe").is_error("bad_request"));
}

BOOST_AUTO_TEST_CASE(a_timestamp_since_returns_the_changes_after_it)
{
    auto c = http();
    const auto before = create(c, "categories", R"({"name":"Hot drinks"})");
    auto probe = c.get("/api/v1/sync/categories");
    BOOST_TEST_REQUIRE(probe.status == 200u);
    const std::string t(probe.json().at("server_time").as_string()); // e.g. 2025-12-23T10:30:00.123456Z
    const auto after = create(c, "categories", R"({"name":"Cakes"})");

    auto ids = [](const http_reply& r) {
        std::vector<std::int64_t> out;
        for (const auto& ch : r.json().at("changes").as_array()) out.push_back(ch.at("id").as_int64());
        return out;
    };
    auto r = c.get("/api/v1/sync/categories?since=" + t);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body());
    BOOST_TEST(ids(r) == std::vector<std::int64_t>{after}, boost::test_tools::per_element());
    BOOST_TEST(ids(c.get("/api/v1/sync/incremental?entity_type=category&since=" + t)) == std::vector<std::int64_t>{after},
               boost::test_tools::per_element());
    // Any RFC 3339 offset: the same instant written as +00:00 ('+' escaped in a query).
    auto offset = c.get("/api/v1/sync/categories?since=" + t.substr(0, t.size() - 1) + "%2B00:00");
    BOOST_TEST_REQUIRE(offset.status == 200u, offset.body());
    BOOST_TEST(ids(offset) == std::vector<std::int64_t>{after}, boost::test_tools::per_element());
    // A time long before everything: the whole set.
    auto old = c.get("/api/v1/sync/categories?since=2000-01-01T00:00:00Z");
    BOOST_TEST_REQUIRE(old.status == 200u, old.body());
    BOOST_TEST(ids(old) == (std::vector<std::int64_t>{before, after}), boost::test_tools::per_element());
    // The next cursor continues from there.
    auto rest = c.get("/api/v1/sync/categories?since=" + std::string(r.json().at("next_since").as_string()));
    BOOST_TEST(rest.json().at("changes").as_array().empty());
    BOOST_TEST(c.get("/api/v1/sync/categories?since=2999-01-01T00:00:00Z").is_error("bad_request"));
    BOOST_TEST(c.get("/api/v1/sync/categories?since=2025-13-45T99:00:00Z").is_error("bad_request"));
}

BOOST_AUTO_TEST_CASE(deleted_records_reach_the_client_as_tombstones)
{
    auto c = http();
    const auto keep = create(c, "tables", R"({"name":"T1","store_id":1,"seats":4})");
    const auto gone = create(c, "tables", R"({"name":"T2","store_id":1,"seats":2})");
    auto first = c.get("/api/v1/sync/tables?store_id=1");
    BOOST_TEST_REQUIRE(first.status == 200u);
    const std::string cursor(first.json().at("next_since").as_string());

    auto del = c.send(http::verb::delete_, "/api/v1/tables/" + std::to_string(gone));
    BOOST_TEST_REQUIRE(del.status == 204u, del.body());

    auto r = c.get("/api/v1/sync/tables?store_id=1&since=" + cursor);
    BOOST_TEST_REQUIRE(r.status == 200u);
    const auto& o = r.json().as_object();
    BOOST_TEST(o.at("changes").as_array().empty());
    const auto& deleted = o.at("deleted").as_array();
    BOOST_TEST_REQUIRE(deleted.size() == 1u);
    BOOST_TEST(keys(deleted[0]) == (std::set<std::string>{"id", "deleted_at"}), boost::test_tools::per_element());
    BOOST_TEST(deleted[0].at("id") == json::value(gone));
    BOOST_TEST(is_wire_timestamp(deleted[0].at("deleted_at")));

    // A fresh client from the beginning sees the live record and the tombstone.
    auto fresh = c.get("/api/v1/sync/tables?store_id=1");
    BOOST_TEST_REQUIRE(fresh.status == 200u);
    BOOST_TEST(fresh.json().at("changes").as_array().size() == 1u);
    BOOST_TEST(fresh.json().at("changes").at(0).at("id") == json::value(keep));
    BOOST_TEST(fresh.json().at("deleted").as_array().size() == 1u);
    // Another store's view has neither.
    auto other = c.get("/api/v1/sync/tables?store_id=2");
    BOOST_TEST(other.json().at("changes").as_array().empty());
    BOOST_TEST(other.json().at("deleted").as_array().empty());
}

BOOST_AUTO_TEST_CASE(garbled_or_foreign_cursors_are_bad_requests)
{
    seed(4);
    auto c = http();
    auto r = c.get("/api/v1/sync/products");
    BOOST_TEST_REQUIRE(r.status == 200u);
    const std::string cursor(r.json().at("next_since").as_string());
    auto tables = c.get("/api/v1/sync/tables?store_id=1");
    const std::string table_cursor(tables.json().at("next_since").as_string());

    std::string flipped = cursor;
    flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
    const std::vector<std::pair<std::string, std::string>> cases{
        {"garbage", "/api/v1/sync/products?since=garbage"},
        {"prefix only", "/api/v1/sync/products?since=v1"},
        {"one character flipped", "/api/v1/sync/products?since=" + flipped},
        {"truncated", "/api/v1/sync/products?since=" + cursor.substr(0, cursor.size() - 3)},
        {"extended", "/api/v1/sync/products?since=" + cursor + "AAAA"},
        {"not base64url", "/api/v1/sync/products?since=v1!!!!"},
        {"another type's cursor", "/api/v1/sync/categories?since=" + cursor},
        {"another store's cursor", "/api/v1/sync/tables?store_id=2&since=" + table_cursor},
        {"a check cursor", "/api/v1/sync/products?since="
                               + std::string(c.get("/api/v1/sync/check").json().at("next_since").as_string())},
        {"a bad escape", "/api/v1/sync/products?since=%zz"},
        {"an escaped NUL", "/api/v1/sync/products?since=v1%00"},
    };
    for (const auto& [what, url] : cases) {
        auto bad = c.get(url);
        BOOST_TEST(bad.status == 400u, what << ": " << bad.status << ' ' << bad.body());
        BOOST_TEST(bad.is_error("bad_request"), what << ": " << bad.body());
    }
}

BOOST_AUTO_TEST_CASE(limits_outside_one_to_ten_thousand_are_bad_requests)
{
    seed(4);
    auto c = http();
    for (std::string limit : {"0", "-1", "10001", "abc", "99999999999999999999", "1.5", "", "+5", "0x10", "%205"}) {
        for (std::string url : {"/api/v1/sync/products?limit=", "/api/v1/sync/incremental?entity_type=product&limit="}) {
            auto r = c.get(url + limit);
            BOOST_TEST(r.status == 400u, url << "'" << limit << "': " << r.status);
            BOOST_TEST(r.is_error("bad_request"), r.body());
        }
    }
    for (std::string limit : {"1", "10000"}) BOOST_TEST(c.get("/api/v1/sync/products?limit=" + limit).status == 200u);
}

BOOST_AUTO_TEST_CASE(unknown_entity_types_are_bad_requests_and_unknown_paths_not_found)
{
    auto c = http();
    auto unknown = c.get("/api/v1/sync/incremental?entity_type=customer");
    BOOST_TEST(unknown.status == 400u);
    BOOST_TEST(unknown.is_error("bad_request"));
    auto missing = c.get("/api/v1/sync/incremental");
    BOOST_TEST(missing.status == 400u);
    BOOST_TEST(missing.is_error("bad_request"));
    auto path = c.get("/api/v1/sync/customers");
    BOOST_TEST(path.status == 404u);
    BOOST_TEST(path.is_error("not_found"));
}

BOOST_AUTO_TEST_CASE(a_large_pull_goes_gzipped_to_a_client_that_accepts_it)
{
    auto c = http();
    for (int i = 0; i < 40; ++i)
        BOOST_TEST_REQUIRE(c.send(http::verb::post, "/api/v1/products",
                                  R"({"name":"Gzip test product )" + std::to_string(i) + R"(","price_cents":100})")
                               .status == 201u);
    const std::string target = "/api/v1/sync/products?store_id=1";
    const auto plain = c.get(target, till_1);
    BOOST_TEST_REQUIRE(plain.status == 200u);
    BOOST_TEST_REQUIRE(plain.body().size() >= 1024u); // above the default threshold
    BOOST_TEST(plain.header("Content-Encoding") == "");
    BOOST_TEST(plain.header("Vary") == "Accept-Encoding");

    const auto gz = c.get(target, till_1, {{"Accept-Encoding", "deflate, gzip"}});
    BOOST_TEST_REQUIRE(gz.status == 200u);
    BOOST_TEST(gz.header("Content-Encoding") == "gzip");
    BOOST_TEST(gz.header("Vary") == "Accept-Encoding");
    BOOST_TEST(gz.body().size() * 3 < plain.body().size());
    std::string inflated;
    BOOST_TEST_REQUIRE(incsync::detail::gzip_decompress(gz.body(), inflated, 1 << 24));
    // The same page (server_time aside, which moves between the two pulls).
    auto a = json::parse(plain.body()).as_object();
    auto b = json::parse(inflated).as_object();
    a.erase("server_time");
    b.erase("server_time");
    BOOST_TEST(json::serialize(a) == json::serialize(b));

    BOOST_TEST(c.get(target, till_1, {{"Accept-Encoding", "gzip;q=0"}}).header("Content-Encoding") == "");
    BOOST_TEST(c.get(target, till_1, {{"Accept-Encoding", "br"}}).header("Content-Encoding") == "");
    // A small page stays plain: compressing it would cost more than it saves.
    const auto small = c.get(target + "&limit=1", till_1, {{"Accept-Encoding", "gzip"}});
    BOOST_TEST_REQUIRE(small.status == 200u);
    BOOST_TEST(small.body().size() < 1024u);
    BOOST_TEST(small.header("Content-Encoding") == "");
    // Errors are never compressed.
    const auto bad = c.get(target + "&limit=0", till_1, {{"Accept-Encoding", "gzip"}});
    BOOST_TEST(bad.status == 400u);
    BOOST_TEST(bad.header("Content-Encoding") == "");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_pull_test
