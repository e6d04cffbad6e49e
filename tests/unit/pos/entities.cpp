#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/pos/entities.hpp>

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

namespace unit_pos_entities_test {

using namespace incsync;

static_assert(boost::mp11::mp_size<pos::entities>::value == 12);
static_assert(entity_scope<pos::product> == scope::global);
static_assert(entity_scope<pos::setting> == scope::mixed);
static_assert(entity_scope<pos::document_prefix> == scope::store);
static_assert(required_members<pos::product>.size() == 1 && required_members<pos::product>[0] == "name");
static_assert(required_members<pos::table>.size() == 2);
static_assert(required_members<pos::inventory_config>.size() == 1
              && required_members<pos::inventory_config>[0] == "store_id");

BOOST_AUTO_TEST_SUITE(pos_entities)

BOOST_AUTO_TEST_CASE(match_the_protocol_table)
{
    // PROTOCOL.md section 1, in order.
    const std::vector<std::string> expected{
        "product:products",
        "category:categories",
        "material:materials",
        "unit_of_measure:unit-of-measures",
        "product_unit_of_measure:product-unit-of-measures",
        "material_unit_of_measure:material-unit-of-measures",
        "recipe:recipes",
        "recipe_material:recipe-materials",
        "setting:settings",
        "table:tables",
        "inventory_config:inventory-config",
        "document_prefix:document-prefixes"};
    std::vector<std::string> actual;
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        actual.push_back(std::string(entity_type_name<E>) + ":" + std::string(entity_path<E>));
    });
    BOOST_TEST(actual == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(visit_finds_by_entity_type_or_path)
{
    std::string found;
    BOOST_TEST(visit_entity<pos::entities>("recipe-materials",
                                           [&]<class E>(std::type_identity<E>) { found = entity_type_name<E>; }));
    BOOST_TEST(found == "recipe_material");
    BOOST_TEST(visit_entity<pos::entities>("table", [&]<class E>(std::type_identity<E>) { found = entity_path<E>; }));
    BOOST_TEST(found == "tables");
    BOOST_TEST(!visit_entity<pos::entities>("widgets", [](auto) {}));
    BOOST_TEST(!visit_entity<pos::entities>("", [](auto) {}));
}

BOOST_AUTO_TEST_CASE(have_the_protocol_fields)
{
    const std::set<std::string_view> product_fields(member_names<pos::product>.begin(), member_names<pos::product>.end());
    for (auto f : {"id", "updated_at", "name", "sku", "price_cents", "category_id", "image_url", "image_version", "is_active"})
        BOOST_TEST(product_fields.count(f) == 1u, f);
    BOOST_TEST(member_index<pos::document_prefix>("next_number") < member_count<pos::document_prefix>);
    BOOST_TEST(member_index<pos::inventory_config>("low_stock_threshold") < member_count<pos::inventory_config>);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_pos_entities_test
