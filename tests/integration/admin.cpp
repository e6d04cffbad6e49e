// Console writes (PROTOCOL.md section 4): CRUD round trips, validation, methods, paths.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

namespace integration_admin_test {

using namespace it;

struct crud_case {
    std::string path;
    std::string create;  // POST body
    std::string patch;   // PATCH body: one member
    std::string member;  // ... that member
    std::string put;     // PUT body: replaces every member
    std::string dropped; // a member set by `create` that PUT resets to its default
};

std::string item(const crud_case& c, std::int64_t id) { return "/api/v1/" + c.path + "/" + std::to_string(id); }

BOOST_FIXTURE_TEST_SUITE(admin_suite, server_fixture)

BOOST_AUTO_TEST_CASE(crud_round_trip_for_global_store_and_mixed_types)
{
    const std::vector<crud_case> cases{
        {"products", R"({"name":"Espresso","sku":"E1","price_cents":250,"is_active":true})", R"({"price_cents":270})",
         "price_cents", R"({"name":"Ristretto"})", "sku"},
        {"categories", R"({"name":"Drinks","description":"hot"})", R"({"description":"cold"})", "description",
         R"({"name":"Food"})", "description"},
        {"tables", R"({"name":"T1","store_id":1,"seats":4,"status":"free"})", R"({"status":"busy"})", "status",
         R"({"name":"T1b","store_id":1})", "seats"},
        {"settings", R"({"key":"currency","value":"EUR","store_id":2})", R"({"value":"USD"})", "value",
         R"({"key":"locale","store_id":2})", "value"},
        {"document-prefixes", R"({"store_id":1,"document_type":"invoice","prefix":"INV-","next_number":7})",
         R"({"next_number":8})", "next_number", R"({"store_id":1,"document_type":"receipt"})", "prefix"},
        {"inventory-config", R"({"store_id":2,"track_stock":true,"low_stock_threshold":"2.5"})",
         R"({"allow_negative_stock":true})", "allow_negative_stock", R"({"store_id":2})", "track_stock"},
    };
    auto c = http();
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.path)
        {
            auto created = c.send(http::verb::post, "/api/v1/" + k.path, k.create);
            BOOST_TEST_REQUIRE(created.status == 201u, created.body());
            const auto record = created.json().as_object();
            BOOST_TEST_REQUIRE(record.at("id").is_int64());
            const auto id = record.at("id").as_int64();
            BOOST_TEST(is_wire_timestamp(record.at("updated_at")));
            const auto sent = json::parse(k.create).as_object();
            for (const auto& kv : sent) BOOST_TEST(record.at(kv.key()) == kv.value(), kv.key());

            auto one = c.get(item(k, id));
            BOOST_TEST_REQUIRE(one.status == 200u);
            BOOST_TEST(one.json() == created.json());

            auto list = c.get("/api/v1/" + k.path);
            BOOST_TEST_REQUIRE(list.status == 200u);
            BOOST_TEST_REQUIRE(list.json().is_array());
            BOOST_TEST(list.json().as_array().size() == 1u);
            BOOST_TEST(list.json().at(0) == created.json());

            auto patched = c.send(http::verb::patch, item(k, id), k.patch);
            BOOST_TEST_REQUIRE(patched.status == 200u, patched.body());
            const auto p = patched.json().as_object();
            BOOST_TEST(p.at(k.member) == json::parse(k.patch).at(k.member));
            for (const auto& kv : sent) // the other members are untouched
                if (kv.key() != k.member) BOOST_TEST(p.at(kv.key()) == kv.value(), kv.key());
            BOOST_TEST(p.at("id") == json::value(id));
            BOOST_TEST(p.at("updated_at") != record.at("updated_at"));

            auto put = c.send(http::verb::put, item(k, id), k.put);
            BOOST_TEST_REQUIRE(put.status == 200u, put.body());
            const auto replaced = put.json().as_object();
            const auto put_body = json::parse(k.put); // named: a temporary would die before the loop
            for (const auto& kv : put_body.as_object()) BOOST_TEST(replaced.at(kv.key()) == kv.value());
            BOOST_TEST(replaced.at(k.dropped) != sent.at(k.dropped), "PUT keeps " << k.dropped);
            BOOST_TEST(replaced.at("id") == json::value(id));
            BOOST_TEST(c.get(item(k, id)).json() == put.json());

            auto del = c.send(http::verb::delete_, item(k, id));
            BOOST_TEST(del.status == 204u, del.body());
            BOOST_TEST(del.body().empty());
            auto after = c.get(item(k, id));
            BOOST_TEST(after.status == 404u);
            BOOST_TEST(after.is_error("not_found"), after.body());
            BOOST_TEST(c.send(http::verb::delete_, item(k, id)).status == 404u);
            BOOST_TEST(c.send(http::verb::patch, item(k, id), k.patch).status == 404u);
            BOOST_TEST(c.get("/api/v1/" + k.path).json().as_array().empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(lists_of_store_scoped_types_filter_by_store_id)
{
    auto c = http();
    (void)create(c, "tables", R"({"name":"A","store_id":1})");
    (void)create(c, "tables", R"({"name":"B","store_id":2})");
    (void)create(c, "tables", R"({"name":"C","store_id":1})");
    BOOST_TEST(c.get("/api/v1/tables").json().as_array().size() == 3u);
    auto one = c.get("/api/v1/tables?store_id=1").json().as_array();
    BOOST_TEST(one.size() == 2u);
    for (const auto& t : one) BOOST_TEST(t.at("store_id") == json::value(1));
    BOOST_TEST(c.get("/api/v1/tables?store_id=2").json().as_array().size() == 1u);
    BOOST_TEST(c.get("/api/v1/tables?store_id=x").status == 400u);
}

BOOST_AUTO_TEST_CASE(invalid_bodies_are_bad_requests_and_change_nothing)
{
    auto c = http();
    const auto id = create(c, "products", R"({"name":"Espresso","price_cents":250})");
    const auto product = "/api/v1/products/" + std::to_string(id);
    const auto before = snapshot();
    const std::vector<std::tuple<std::string, http::verb, std::string, std::string>> cases{
        {"unknown member", http::verb::post, "/api/v1/products", R"({"name":"X","colour":"red"})"},
        {"unknown member on PATCH", http::verb::patch, product, R"({"colour":"red"})"},
        {"unknown member on PUT", http::verb::put, product, R"({"name":"X","colour":"red"})"},
        {"string for an integer", http::verb::post, "/api/v1/products", R"({"name":"X","price_cents":"250"})"},
        {"integer for a string", http::verb::patch, product, R"({"name":5})"},
        {"string for a bool", http::verb::patch, product, R"({"is_active":"yes"})"},
        {"float for an integer", http::verb::patch, product, R"({"price_cents":2.5})"},
        {"array for an optional", http::verb::patch, product, R"({"category_id":[1]})"},
        {"null for a required string", http::verb::patch, product, R"({"name":null})"},
        {"not a decimal", http::verb::post, "/api/v1/inventory-config", R"({"store_id":1,"low_stock_threshold":"lots"})"},
        {"missing name", http::verb::post, "/api/v1/products", R"({"price_cents":250})"},
        {"null name", http::verb::post, "/api/v1/categories", R"({"name":null})"},
        {"missing name on PUT", http::verb::put, product, R"({"price_cents":1})"},
        {"missing key", http::verb::post, "/api/v1/settings", R"({"value":"x"})"},
        {"store-scoped without store_id", http::verb::post, "/api/v1/tables", R"({"name":"T1"})"},
        {"store-scoped with null store_id", http::verb::post, "/api/v1/document-prefixes", R"({"store_id":null})"},
        {"malformed JSON", http::verb::post, "/api/v1/products", R"({"name":"X",)"},
        {"trailing garbage", http::verb::post, "/api/v1/products", R"({"name":"X"} {})"},
        {"empty body", http::verb::post, "/api/v1/products", ""},
        {"array body", http::verb::post, "/api/v1/products", R"([{"name":"X"}])"},
        {"string body", http::verb::patch, product, R"("name")"},
        {"number body", http::verb::put, product, "42"},
        {"null body", http::verb::post, "/api/v1/categories", "null"},
    };
    for (const auto& [what, method, target, body] : cases) {
        auto r = c.send(method, target, body);
        BOOST_TEST(r.status == 400u, what << ": " << r.status << ' ' << r.body());
        BOOST_TEST(r.is_error("bad_request"), what << ": " << r.body());
    }
    BOOST_TEST(snapshot() == before);
}

BOOST_AUTO_TEST_CASE(moving_a_record_to_another_store_is_a_conflict)
{
    auto c = http();
    const auto id = create(c, "tables", R"({"name":"T1","store_id":1})");
    const auto before = snapshot();
    auto r = c.send(http::verb::patch, "/api/v1/tables/" + std::to_string(id), R"({"store_id":2})");
    BOOST_TEST(r.status == 409u, r.body());
    BOOST_TEST(r.is_error("conflict"), r.body());
    BOOST_TEST(snapshot() == before);
}

BOOST_AUTO_TEST_CASE(id_and_updated_at_in_a_body_are_ignored)
{
    auto c = http();
    (void)create(c, "categories", R"({"name":"first"})");
    auto r = c.send(http::verb::post, "/api/v1/categories",
                    R"({"id":999,"updated_at":"2000-01-01T00:00:00.000000Z","name":"Cakes"})");
    BOOST_TEST_REQUIRE(r.status == 201u, r.body());
    const auto id = r.json().at("id").as_int64();
    BOOST_TEST(id == 2);
    BOOST_TEST(r.json().at("updated_at") != json::value("2000-01-01T00:00:00.000000Z"));
    BOOST_TEST(c.get("/api/v1/categories/999").status == 404u);

    auto p = c.send(http::verb::patch, "/api/v1/categories/2", R"({"id":5,"updated_at":"bogus","name":"Pies"})");
    BOOST_TEST_REQUIRE(p.status == 200u, p.body());
    BOOST_TEST(p.json().at("id") == json::value(2));
    BOOST_TEST(p.json().at("name") == json::value("Pies"));
    BOOST_TEST(c.get("/api/v1/categories/5").status == 404u);
    BOOST_TEST(c.send(http::verb::put, "/api/v1/categories/2", R"({"id":1,"name":"Tarts"})").json().at("id")
               == json::value(2));
    BOOST_TEST(c.get("/api/v1/categories/1").json().at("name") == json::value("first"));
}

BOOST_AUTO_TEST_CASE(wrong_methods_get_405_with_an_allow_header)
{
    auto c = http();
    const auto id = create(c, "products", R"({"name":"Espresso"})");
    const auto product = "/api/v1/products/" + std::to_string(id);
    const std::vector<std::tuple<http::verb, std::string, std::string>> cases{
        {http::verb::delete_, "/api/v1/products", "GET, POST"},
        {http::verb::put, "/api/v1/products", "GET, POST"},
        {http::verb::patch, "/api/v1/tables", "GET, POST"},
        {http::verb::post, product, "GET, PATCH, PUT, DELETE"},
        {http::verb::options, product, "GET, PATCH, PUT, DELETE"},
        {http::verb::post, "/api/v1/sync/products", "GET"},
        {http::verb::delete_, "/api/v1/sync/check", "GET"},
        {http::verb::post, "/api/v1/sync/events", "GET"},
        {http::verb::post, "/ws/sync/1", "GET"},
        {http::verb::delete_, product + "/image", "GET, PUT"},
        {http::verb::post, product + "/image", "GET, PUT"},
    };
    for (const auto& [method, target, allow] : cases) {
        auto r = c.send(method, target, method == http::verb::post ? R"({"name":"X"})" : "");
        BOOST_TEST(r.status == 405u, http::to_string(method) << ' ' << target << ": " << r.status << ' ' << r.body());
        BOOST_TEST(r.is_error("method_not_allowed"), r.body());
        BOOST_TEST(r.header("Allow") == allow, http::to_string(method) << ' ' << target);
    }
    BOOST_TEST(c.get(product).status == 200u); // nothing happened to it
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_ids_get_404)
{
    auto c = http();
    (void)create(c, "products", R"({"name":"Espresso"})");
    for (std::string target : {"/", "/nothing", "/api", "/api/v1", "/api/v1/", "/api/v1/customers", "/api/v1/customers/1",
                               "/api/v1/products/999", "/api/v1/products/abc", "/api/v1/products/1x", "/api/v1/products/-1",
                               "/api/v1/products/1/extra", "/api/v1/product/1", "/api/v1/sync/", "/api/v2/products",
                               "/api/v1/categories/1/image", "/api/v1/products/99999999999999999999"}) {
        auto r = c.get(target);
        BOOST_TEST(r.status == 404u, target << ": " << r.status << ' ' << r.body());
        BOOST_TEST(r.is_error("not_found"), target << ": " << r.body());
    }
    BOOST_TEST(c.send(http::verb::patch, "/api/v1/products/999", R"({"name":"X"})").status == 404u);
    BOOST_TEST(c.send(http::verb::put, "/api/v1/products/999", R"({"name":"X"})").status == 404u);
    BOOST_TEST(c.send(http::verb::delete_, "/api/v1/products/999").status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_admin_test
