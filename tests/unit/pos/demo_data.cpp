#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/pos/demo_data.hpp>
#include <incsync/memory/server_store.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace unit_pos_demo_data_test {

using namespace incsync;
using store_t = memory::server_store<pos::entities>;

static_assert(pos::pos_server_store<store_t>);

// A store whose writes start failing after `writes_left` of them.
struct failing_store {
    using entities = pos::entities;
    store_t inner;
    std::size_t writes_left = 0;

    template <entity E>
    result<commit<E>> create(const E& v)
    {
        if (writes_left == 0) return error_info(error::storage_failure, "disk full");
        --writes_left;
        return inner.create<E>(v);
    }
    template <entity E>
    result<commit<E>> update(std::int64_t id, const E& v, member_set m)
    {
        if (writes_left == 0) return error_info(error::storage_failure, "disk full");
        --writes_left;
        return inner.update<E>(id, v, m);
    }
    template <entity E>
    result<commit<E>> remove(std::int64_t id) { return inner.remove<E>(id); }
    template <entity E>
    result<record_ptr<E>> get(std::int64_t id) const { return inner.get<E>(id); }
    template <entity E>
    result<std::vector<record_ptr<E>>> list(std::optional<std::int64_t> s) const { return inner.list<E>(s); }
    template <entity E>
    result<change_page<E>> changes(const change_query& q) const { return inner.changes<E>(q); }
    template <entity E>
    result<version_t> version_at(timestamp t) const { return inner.version_at<E>(t); }
};
static_assert(pos::pos_server_store<failing_store>);

template <class E, class Store>
std::vector<E> all(const Store& s, std::optional<std::int64_t> store = {})
{
    auto r = s.template list<E>(store);
    BOOST_REQUIRE(r.has_value());
    std::vector<E> out;
    for (const auto& rec : *r) out.push_back(rec->value);
    return out;
}

// The records' JSON without `updated_at`, which is the commit time.
template <class E>
std::vector<std::string> json_without_time(const store_t& s)
{
    auto r = s.list<E>(std::nullopt);
    BOOST_REQUIRE(r.has_value());
    std::vector<std::string> out;
    for (const auto& rec : *r) {
        auto jv = boost::json::parse(rec->json);
        BOOST_REQUIRE(jv.as_object().erase("updated_at") == 1u);
        out.push_back(boost::json::serialize(jv));
    }
    return out;
}

pos::demo_summary seed(store_t& s, server::image_repository* images, const pos::demo_options& o = {})
{
    auto r = pos::seed_demo_data(s, images, o);
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message()));
    return *r;
}

BOOST_AUTO_TEST_SUITE(pos_demo_data)

BOOST_AUTO_TEST_CASE(seeds_the_requested_products_each_with_its_image)
{
    store_t s;
    server::memory_image_repository images;
    const auto summary = seed(s, &images);
    const auto products = all<pos::product>(s);
    BOOST_TEST(products.size() == 300u);
    BOOST_TEST(summary.images == 300u);
    BOOST_TEST(images.size() == 300u);
    for (const auto& p : products) {
        BOOST_TEST_CONTEXT(p.name)
        {
            BOOST_TEST((p.image_url == "/api/v1/products/" + std::to_string(p.id) + "/image"));
            BOOST_TEST(p.image_version == 1);
            auto img = images.get("product", p.id, "").value();
            BOOST_REQUIRE(img);
            BOOST_TEST(img->content_type == "image/svg+xml");
            BOOST_TEST(img->etag == server::image_etag(img->bytes));
            BOOST_TEST(img->bytes.size() < 1024u);
            BOOST_TEST(img->bytes.find(R"(width="110" height="110")") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(summary_counts_every_record)
{
    store_t s;
    server::memory_image_repository images;
    const auto summary = seed(s, &images, {.products = 120});
    std::size_t total = 0;
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) { total += all<E>(s).size(); });
    BOOST_TEST(summary.records == total);
    BOOST_TEST(all<pos::category>(s).size() == 12u);
    BOOST_TEST(all<pos::unit_of_measure>(s).size() >= 5u);
    BOOST_TEST(all<pos::material>(s).size() >= 20u);
    // Every recipe-bearing category gets most of its products a recipe.
    BOOST_TEST(all<pos::recipe>(s).size() > 60u);
    BOOST_TEST(all<pos::product_unit_of_measure>(s).size() > 0u);
}

BOOST_AUTO_TEST_CASE(skus_and_names_are_unique)
{
    for (std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{300}, std::size_t{2500}}) {
        store_t s;
        seed(s, nullptr, {.products = n, .images = false});
        const auto products = all<pos::product>(s);
        BOOST_TEST(products.size() == n);
        std::set<std::string> skus, names;
        for (const auto& p : products) {
            skus.insert(p.sku);
            names.insert(p.name);
        }
        BOOST_TEST(skus.size() == n);
        BOOST_TEST(names.size() == n);
    }
}

BOOST_AUTO_TEST_CASE(products_are_priced_categorised_and_mostly_active)
{
    store_t s;
    seed(s, nullptr);
    std::set<std::int64_t> categories;
    for (const auto& c : all<pos::category>(s)) {
        BOOST_TEST(!c.name.empty());
        BOOST_TEST((c.description && !c.description->empty()));
        categories.insert(c.id);
    }
    std::map<std::int64_t, std::size_t> per_category;
    std::size_t inactive = 0;
    for (const auto& p : all<pos::product>(s)) {
        BOOST_TEST(p.price_cents > 0);
        BOOST_TEST(p.price_cents % 10 == 0);
        BOOST_REQUIRE(p.category_id.has_value());
        BOOST_TEST(categories.count(*p.category_id) == 1u);
        ++per_category[*p.category_id];
        inactive += !p.is_active;
        BOOST_TEST(!p.image_url.has_value()); // no repository: no image
        BOOST_TEST(p.image_version == 0);
    }
    BOOST_TEST(per_category.size() == 12u);
    BOOST_TEST(inactive > 0u);
    BOOST_TEST(inactive < 30u);
}

BOOST_AUTO_TEST_CASE(images_option_off_stores_no_images)
{
    store_t s;
    server::memory_image_repository images;
    const auto summary = seed(s, &images, {.products = 20, .images = false});
    BOOST_TEST(summary.images == 0u);
    BOOST_TEST(images.size() == 0u);
    for (const auto& p : all<pos::product>(s)) BOOST_TEST(!p.image_url.has_value());
}

BOOST_AUTO_TEST_CASE(image_text_is_xml_escaped)
{
    store_t s;
    server::memory_image_repository images;
    seed(s, &images);
    bool seen = false;
    for (const auto& p : all<pos::product>(s)) {
        if (p.name.find('&') == std::string::npos) continue;
        seen = true;
        const auto svg = images.get("product", p.id, "").value()->bytes;
        BOOST_TEST(svg.find("&amp;") != std::string::npos);
        BOOST_TEST(svg.find("& ") == std::string::npos);
    }
    BOOST_TEST(seen);
}

BOOST_AUTO_TEST_CASE(store_scoped_records_belong_to_their_store)
{
    store_t s;
    const std::vector<std::int64_t> stores{1, 2, 7};
    seed(s, nullptr, {.products = 24, .stores = stores});
    std::size_t tables = 0;
    for (auto store : stores) {
        BOOST_TEST_CONTEXT("store " << store)
        {
            const auto ts = all<pos::table>(s, store);
            BOOST_TEST(ts.size() >= 8u);
            BOOST_TEST(ts.size() <= 20u);
            tables += ts.size();
            std::set<std::string> names;
            for (const auto& t : ts) {
                BOOST_TEST(t.store_id == store);
                BOOST_TEST(t.seats > 0);
                BOOST_TEST((t.status == "free" || t.status == "occupied"));
                names.insert(t.name);
            }
            BOOST_TEST(names.size() == ts.size());
            BOOST_TEST(names.count("Table 1") == 1u);

            const auto inv = all<pos::inventory_config>(s, store);
            BOOST_REQUIRE_EQUAL(inv.size(), 1u);
            BOOST_TEST(inv[0].store_id == store);

            const auto prefixes = all<pos::document_prefix>(s, store);
            std::set<std::string> types;
            for (const auto& d : prefixes) {
                BOOST_TEST(d.store_id == store);
                BOOST_TEST(d.prefix.starts_with("S" + std::to_string(store) + "-"));
                BOOST_TEST(d.next_number > 0);
                types.insert(d.document_type);
            }
            BOOST_TEST((types == std::set<std::string>{"credit_note", "invoice", "receipt"}));

            std::size_t own = 0;
            for (const auto& row : all<pos::setting>(s, store)) {
                BOOST_TEST((!row.store_id || *row.store_id == store));
                own += row.store_id.has_value();
            }
            BOOST_TEST(own > 0u);
        }
    }
    // Nothing beyond the requested stores.
    BOOST_TEST(all<pos::table>(s).size() == tables);
    BOOST_TEST(all<pos::inventory_config>(s).size() == stores.size());
    BOOST_TEST(all<pos::document_prefix>(s).size() == 3 * stores.size());
    BOOST_TEST(all<pos::table>(s, 3).empty());
    std::set<std::string> global_keys;
    for (const auto& row : all<pos::setting>(s, 3)) {
        BOOST_TEST(!row.store_id.has_value());
        global_keys.insert(row.key);
    }
    BOOST_TEST(global_keys.count("currency") == 1u);
    BOOST_TEST(global_keys.count("tax_rate") == 1u);
    BOOST_TEST(global_keys.count("receipt_footer") == 1u);
}

BOOST_AUTO_TEST_CASE(same_seed_gives_the_same_catalog)
{
    store_t a, b, c;
    server::memory_image_repository images_a, images_b;
    seed(a, &images_a);
    seed(b, &images_b);
    seed(c, nullptr, {.seed = 7});
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        BOOST_TEST_CONTEXT(entity_type_name<E>)
        {
            const auto ja = json_without_time<E>(a);
            BOOST_TEST(!ja.empty());
            BOOST_TEST(ja == json_without_time<E>(b), boost::test_tools::per_element());
        }
    });
    for (const auto& p : all<pos::product>(a))
        BOOST_TEST(images_a.get("product", p.id, "").value()->bytes == images_b.get("product", p.id, "").value()->bytes);

    std::vector<std::int64_t> prices_a, prices_c;
    for (const auto& p : all<pos::product>(a)) prices_a.push_back(p.price_cents);
    for (const auto& p : all<pos::product>(c)) prices_c.push_back(p.price_cents);
    BOOST_TEST(prices_a.size() == prices_c.size());
    BOOST_TEST((prices_a != prices_c)); // another seed, another catalog
}

BOOST_AUTO_TEST_CASE(references_point_at_existing_records)
{
    store_t s;
    seed(s, nullptr);
    auto ids = [&]<class E>(std::type_identity<E>) {
        std::set<std::int64_t> out;
        for (const auto& v : all<E>(s)) out.insert(v.id);
        return out;
    };
    const auto products = ids(std::type_identity<pos::product>{});
    const auto materials = ids(std::type_identity<pos::material>{});
    const auto units = ids(std::type_identity<pos::unit_of_measure>{});
    const auto recipes = ids(std::type_identity<pos::recipe>{});

    for (const auto& r : all<pos::recipe>(s)) BOOST_TEST(products.count(r.product_id) == 1u);
    std::map<std::int64_t, std::set<std::int64_t>> materials_of;
    for (const auto& rm : all<pos::recipe_material>(s)) {
        BOOST_TEST(recipes.count(rm.recipe_id) == 1u);
        BOOST_TEST(materials.count(rm.material_id) == 1u);
        BOOST_TEST(rm.quantity > decimal{});
        BOOST_TEST(materials_of[rm.recipe_id].insert(rm.material_id).second); // no material twice
    }
    BOOST_TEST(materials_of.size() == recipes.size());
    for (const auto& [recipe, ms] : materials_of) {
        BOOST_TEST(ms.size() >= 2u);
        BOOST_TEST(ms.size() <= 4u);
    }
    for (const auto& pu : all<pos::product_unit_of_measure>(s)) {
        BOOST_TEST(products.count(pu.product_id) == 1u);
        BOOST_TEST(units.count(pu.unit_of_measure_id) == 1u);
        BOOST_TEST(pu.factor > decimal{});
    }
    for (const auto& mu : all<pos::material_unit_of_measure>(s)) {
        BOOST_TEST(materials.count(mu.material_id) == 1u);
        BOOST_TEST(units.count(mu.unit_of_measure_id) == 1u);
        BOOST_TEST(mu.factor > decimal{});
    }
    for (const auto& m : all<pos::material>(s)) BOOST_TEST(m.unit_cost_cents > 0);
}

BOOST_AUTO_TEST_CASE(returns_the_first_store_error)
{
    // Every failure point up to well into the products (creates and updates).
    for (std::size_t writes = 0; writes < 160; ++writes) {
        failing_store s;
        s.writes_left = writes;
        server::memory_image_repository images;
        auto r = pos::seed_demo_data(s, &images, {.products = 50});
        BOOST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error() == error::storage_failure);
        BOOST_TEST(r.error().detail == "disk full");
        // The repository never holds an image its product does not point at.
        for (const auto& p : all<pos::product>(s.inner))
            BOOST_TEST(bool(images.get("product", p.id, "").value()) == p.image_url.has_value());
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_pos_demo_data_test
