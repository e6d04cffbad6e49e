// The point-of-sale binding's twelve entity types (PROTOCOL.md section 1):
// plain structs, one describe line and one traits line each.
#ifndef INCSYNC_POS_ENTITIES_HPP
#define INCSYNC_POS_ENTITIES_HPP

#include <incsync/decimal.hpp>
#include <incsync/entity.hpp>
#include <incsync/timestamp.hpp>

#include <boost/describe/class.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace incsync::pos {

struct product {
    std::int64_t id = 0;
    timestamp updated_at;
    std::string name;
    std::string sku;
    std::int64_t price_cents = 0;
    std::optional<std::int64_t> category_id;
    std::optional<std::string> image_url;
    std::int64_t image_version = 0;
    bool is_active = false;
    friend bool operator==(const product&, const product&) = default;
};
BOOST_DESCRIBE_STRUCT(product, (), (id, updated_at, name, sku, price_cents, category_id, image_url, image_version, is_active))

struct category {
    std::int64_t id = 0;
    timestamp updated_at;
    std::string name;
    std::optional<std::string> description;
    friend bool operator==(const category&, const category&) = default;
};
BOOST_DESCRIBE_STRUCT(category, (), (id, updated_at, name, description))

struct material {
    std::int64_t id = 0;
    timestamp updated_at;
    std::string name;
    std::int64_t unit_cost_cents = 0;
    friend bool operator==(const material&, const material&) = default;
};
BOOST_DESCRIBE_STRUCT(material, (), (id, updated_at, name, unit_cost_cents))

struct unit_of_measure {
    std::int64_t id = 0;
    timestamp updated_at;
    std::string name;
    std::string abbreviation;
    friend bool operator==(const unit_of_measure&, const unit_of_measure&) = default;
};
BOOST_DESCRIBE_STRUCT(unit_of_measure, (), (id, updated_at, name, abbreviation))

struct product_unit_of_measure {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t product_id = 0;
    std::int64_t unit_of_measure_id = 0;
    decimal factor;
    friend bool operator==(const product_unit_of_measure&, const product_unit_of_measure&) = default;
};
BOOST_DESCRIBE_STRUCT(product_unit_of_measure, (), (id, updated_at, product_id, unit_of_measure_id, factor))

struct material_unit_of_measure {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t material_id = 0;
    std::int64_t unit_of_measure_id = 0;
    decimal factor;
    friend bool operator==(const material_unit_of_measure&, const material_unit_of_measure&) = default;
};
BOOST_DESCRIBE_STRUCT(material_unit_of_measure, (), (id, updated_at, material_id, unit_of_measure_id, factor))

struct recipe {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t product_id = 0;
    std::string name;
    friend bool operator==(const recipe&, const recipe&) = default;
};
BOOST_DESCRIBE_STRUCT(recipe, (), (id, updated_at, product_id, name))

struct recipe_material {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t recipe_id = 0;
    std::int64_t material_id = 0;
    decimal quantity;
    friend bool operator==(const recipe_material&, const recipe_material&) = default;
};
BOOST_DESCRIBE_STRUCT(recipe_material, (), (id, updated_at, recipe_id, material_id, quantity))

/// Global rows have a null `store_id`; a store row applies to that store only.
struct setting {
    std::int64_t id = 0;
    timestamp updated_at;
    std::string key;
    std::string value;
    std::optional<std::int64_t> store_id;
    friend bool operator==(const setting&, const setting&) = default;
};
BOOST_DESCRIBE_STRUCT(setting, (), (id, updated_at, key, value, store_id))

struct table {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t store_id = 0;
    std::string name;
    std::int64_t seats = 0;
    std::string status;
    friend bool operator==(const table&, const table&) = default;
};
BOOST_DESCRIBE_STRUCT(table, (), (id, updated_at, store_id, name, seats, status))

struct inventory_config {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t store_id = 0;
    bool track_stock = false;
    bool allow_negative_stock = false;
    decimal low_stock_threshold;
    friend bool operator==(const inventory_config&, const inventory_config&) = default;
};
BOOST_DESCRIBE_STRUCT(inventory_config, (), (id, updated_at, store_id, track_stock, allow_negative_stock, low_stock_threshold))

struct document_prefix {
    std::int64_t id = 0;
    timestamp updated_at;
    std::int64_t store_id = 0;
    std::string document_type;
    std::string prefix;
    std::int64_t next_number = 0;
    friend bool operator==(const document_prefix&, const document_prefix&) = default;
};
BOOST_DESCRIBE_STRUCT(document_prefix, (), (id, updated_at, store_id, document_type, prefix, next_number))

} // namespace incsync::pos

INCSYNC_ENTITY(incsync::pos::product, "product", "products", global);
INCSYNC_ENTITY(incsync::pos::category, "category", "categories", global);
INCSYNC_ENTITY(incsync::pos::material, "material", "materials", global);
INCSYNC_ENTITY(incsync::pos::unit_of_measure, "unit_of_measure", "unit-of-measures", global);
INCSYNC_ENTITY(incsync::pos::product_unit_of_measure, "product_unit_of_measure", "product-unit-of-measures", global);
INCSYNC_ENTITY(incsync::pos::material_unit_of_measure, "material_unit_of_measure", "material-unit-of-measures", global);
INCSYNC_ENTITY(incsync::pos::recipe, "recipe", "recipes", global);
INCSYNC_ENTITY(incsync::pos::recipe_material, "recipe_material", "recipe-materials", global);
INCSYNC_ENTITY(incsync::pos::table, "table", "tables", store);
INCSYNC_ENTITY(incsync::pos::inventory_config, "inventory_config", "inventory-config", store);
INCSYNC_ENTITY(incsync::pos::document_prefix, "document_prefix", "document-prefixes", store);

/// A setting needs its key as well as the default required members.
template <>
struct incsync::entity_traits<incsync::pos::setting> {
    static constexpr std::string_view entity_type = "setting";
    static constexpr std::string_view path = "settings";
    static constexpr ::incsync::scope scope = ::incsync::scope::mixed;
    static constexpr std::array<std::string_view, 1> required_members{"key"};
};

namespace incsync::pos {

/// The POS entity types, in the protocol's order.
using entities = entity_list<product, category, material, unit_of_measure, product_unit_of_measure,
                             material_unit_of_measure, recipe, recipe_material, setting, table,
                             inventory_config, document_prefix>;

} // namespace incsync::pos

#endif
