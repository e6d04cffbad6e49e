// A deterministic demo catalog for the POS binding: a café chain with a few
// hundred products (with SVG tiles), recipes, settings and per-store tables.
// Used by the example server's `--demo-data` flag, by tests and benchmarks.
#ifndef INCSYNC_POS_DEMO_DATA_HPP
#define INCSYNC_POS_DEMO_DATA_HPP

#include <incsync/decimal.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/server/images.hpp>
#include <incsync/store.hpp>

#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::pos {

/// A server store holding every POS entity type: `server_store_for<Store, E>`
/// for each `E` of `pos::entities` (e.g. `memory::server_store<pos::entities>`).
template <class Store>
concept pos_server_store = boost::mp11::mp_all_of_q<entities, incsync::detail::store_covers<Store>>::value;

/// What `seed_demo_data` creates.
struct demo_options {
    std::size_t products = 300;             ///< spread round-robin over the 12 categories
    std::vector<std::int64_t> stores = {1, 2}; ///< store ids that get tables, prefixes, settings
    std::uint64_t seed = 42;                ///< same seed and options, same catalog
    bool images = true;                     ///< give every product an SVG tile (needs a repository)
};

/// What `seed_demo_data` did.
struct demo_summary {
    std::size_t records = 0; ///< records created, over all entity types
    std::size_t images = 0;  ///< product images stored
};

} // namespace incsync::pos

// Not `pos::detail`: that would hide `incsync::detail` from every later
// `pos` header that names it unqualified.
namespace incsync::detail::demo {

// splitmix64: tiny, seedable and the same on every platform, unlike the
// standard distributions, whose output is implementation-defined.
struct splitmix64 {
    std::uint64_t state = 0;

    std::uint64_t next() noexcept
    {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // The modulo bias is irrelevant for demo data.
    std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
    std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept
    {
        return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
    }
    bool chance(unsigned percent) noexcept { return below(100) < percent; }
};

// Units of measure, by index.
enum unit_ix : std::size_t { pc, kg, g, l, ml, slice, portion, bottle, dozen, box, unit_count };

struct unit_row {
    std::string_view name, abbreviation;
};

inline constexpr std::array<unit_row, unit_count> units{{
    {"Piece", "pc"}, {"Kilogram", "kg"}, {"Gram", "g"}, {"Litre", "l"}, {"Millilitre", "ml"},
    {"Slice", "slice"}, {"Portion", "ptn"}, {"Bottle", "btl"}, {"Dozen", "dz"}, {"Box", "box"},
}};

// Materials, by index; recipes refer to these names.
enum material_ix : std::size_t {
    whole_milk, oat_milk, espresso_beans, decaf_beans, black_tea, green_tea, chai_spice, cocoa, sugar,
    vanilla_syrup, flour, butter, eggs, dark_chocolate, almonds, sourdough, ham, cheddar, chicken, salad_leaves,
    tomatoes, avocado, bacon, berries, banana, oranges, yoghurt, veg_stock, lentils, cream_cheese, sparkling_water,
    material_count
};

struct material_row {
    std::string_view name;
    std::int64_t unit_cost_cents; // per one `unit`
    unit_ix unit;
    unit_ix alt_unit;           // a second unit, holding `alt_millionths` of `unit`
    std::int64_t alt_millionths;
};

inline constexpr std::array<material_row, material_count> materials{{
    {"Whole Milk", 115, l, ml, 1'000},
    {"Oat Milk", 260, l, ml, 1'000},
    {"Espresso Beans", 2400, kg, g, 1'000},
    {"Decaf Espresso Beans", 2700, kg, g, 1'000},
    {"Black Tea Leaves", 3200, kg, g, 1'000},
    {"Green Tea Leaves", 4100, kg, g, 1'000},
    {"Chai Spice Mix", 2900, kg, g, 1'000},
    {"Cocoa Powder", 1400, kg, g, 1'000},
    {"Cane Sugar", 180, kg, g, 1'000},
    {"Vanilla Syrup", 1150, l, ml, 1'000},
    {"Wheat Flour", 95, kg, g, 1'000},
    {"Butter", 980, kg, g, 1'000},
    {"Free-Range Eggs", 32, pc, dozen, 12'000'000},
    {"Dark Chocolate", 1600, kg, g, 1'000},
    {"Ground Almonds", 1450, kg, g, 1'000},
    {"Sourdough Loaf", 420, pc, slice, 50'000},
    {"Smoked Ham", 1900, kg, g, 1'000},
    {"Mature Cheddar", 1300, kg, g, 1'000},
    {"Chicken Breast", 1150, kg, g, 1'000},
    {"Mixed Salad Leaves", 900, kg, g, 1'000},
    {"Vine Tomatoes", 420, kg, g, 1'000},
    {"Avocado", 95, pc, box, 20'000'000},
    {"Streaky Bacon", 1250, kg, g, 1'000},
    {"Mixed Berries", 850, kg, g, 1'000},
    {"Bananas", 190, kg, g, 1'000},
    {"Oranges", 240, kg, g, 1'000},
    {"Greek Yoghurt", 520, kg, g, 1'000},
    {"Vegetable Stock", 160, l, ml, 1'000},
    {"Red Lentils", 310, kg, g, 1'000},
    {"Cream Cheese", 780, kg, g, 1'000},
    {"Sparkling Water", 60, l, ml, 1'000},
}};

struct ingredient {
    material_ix material = material_count; // material_count: unused slot
    std::int64_t thousandths = 0;            // of the material's unit, per product sold
};

struct sold_unit {
    unit_ix unit = unit_count; // unit_count: unused slot
    std::int64_t factor = 0;     // product units per one of these
};

struct category_row {
    std::string_view name, description;
    std::string_view sku_code; // SKU prefix, unique per category
    std::string_view colour;   // of the product tiles
    std::string_view bases;    // '|'-separated; unique across categories
    std::string_view variants; // '|'-separated prefixes: "Large" + "Flat White"
    std::int64_t price_cents, price_step_cents, variant_cents;
    unsigned recipe_percent; // share of products with a recipe
    std::array<ingredient, 6> ingredients; // the first is in every recipe
    std::array<sold_unit, 2> sold_units; // product_unit_of_measures of each product
};

inline constexpr std::array<category_row, 12> categories{{
    {"Coffee", "Espresso drinks and filter coffee made with our house blend.", "COF", "#6f4e37",
     "Espresso|Double Espresso|Americano|Flat White|Cappuccino|Caffè Latte|Cortado|Macchiato|Mocha|Filter Coffee",
     "Large|Iced|Oat|Decaf|Vanilla", 250, 30, 50, 95,
     {{{espresso_beans, 18}, {whole_milk, 200}, {oat_milk, 200}, {sugar, 8}, {vanilla_syrup, 15}, {cocoa, 10}}}, {}},
    {"Tea", "Loose-leaf teas and lattes, brewed to order.", "TEA", "#5b8c2a",
     "English Breakfast|Earl Grey|Green Sencha|Jasmine Pearl|Peppermint|Chamomile|Rooibos|Chai Latte|Matcha Latte",
     "Large|Iced|Pot of|Sweet", 240, 20, 60, 80,
     {{{black_tea, 3}, {green_tea, 3}, {chai_spice, 8}, {whole_milk, 150}, {oat_milk, 150}, {sugar, 8}}}, {}},
    {"Cold Drinks", "Lemonades, sodas and iced classics.", "CLD", "#2b8cbe",
     "Lemonade|Pink Lemonade|Ginger Beer|Cola|Iced Tea|Elderflower Presse|Lime Soda|Cherry Cola|Orange Soda",
     "Large|Sugar-Free|Frozen", 220, 20, 60, 60,
     {{{sparkling_water, 330}, {sugar, 20}, {oranges, 120}, {black_tea, 4}}}, {}},
    {"Smoothies & Juices", "Blended fruit smoothies and freshly squeezed juices.", "SMO", "#d6336c",
     "Berry Blast|Banana Boost|Green Machine|Tropical Sunrise|Fresh Orange Juice|Apple & Ginger Juice|Carrot Zinger|Protein Shake",
     "Large|Kids|Super", 420, 30, 80, 90,
     {{{berries, 120}, {banana, 100}, {oranges, 300}, {yoghurt, 100}, {oat_milk, 150}, {sugar, 10}}}, {}},
    {"Pastries", "Viennoiserie baked in house every morning.", "PAS", "#e0a030",
     "Croissant|Pain au Chocolat|Cinnamon Roll|Apple Danish|Pain aux Raisins|Chelsea Bun|Cardamom Knot|Palmier",
     "Almond|Raspberry|Vegan|Mini", 220, 20, 40, 85,
     {{{flour, 80}, {butter, 40}, {eggs, 200}, {sugar, 15}, {dark_chocolate, 20}, {almonds, 15}}},
     {{{pc, 1}, {dozen, 12}}}},
    {"Cakes & Desserts", "Cakes by the slice, tarts and sweet treats.", "CAK", "#8e44ad",
     "Carrot Cake|Chocolate Fudge Cake|Lemon Drizzle|Victoria Sponge|Cheesecake|Brownie|Banana Bread|Apple Crumble|Tiramisu|Red Velvet",
     "Gluten-Free|Vegan|Warm|Mini", 350, 25, 50, 85,
     {{{flour, 60}, {butter, 40}, {eggs, 500}, {sugar, 50}, {dark_chocolate, 30}, {cream_cheese, 40}}},
     {{{slice, 1}, {box, 8}}}},
    {"Breakfast", "Served until 11:30: eggs, bowls and toasties.", "BRK", "#e6b800",
     "Full Breakfast|Eggs Benedict|Avocado Toast|Porridge|Granola Bowl|Bacon Roll|Scrambled Eggs on Toast|Pancake Stack|Shakshuka",
     "Veggie|Vegan|Large|Kids", 550, 60, 100, 90,
     {{{eggs, 2000}, {sourdough, 100}, {bacon, 80}, {avocado, 500}, {butter, 15}, {tomatoes, 80}}}, {}},
    {"Sandwiches", "Freshly made sandwiches, wraps and toasties.", "SND", "#d35400",
     "Club Sandwich|BLT|Ham & Cheese Toastie|Chicken Caesar Wrap|Tuna Melt|Egg Mayo|Caprese Panini|Pastrami on Rye|Falafel Wrap|Reuben",
     "Toasted|Gluten-Free|Deluxe|Spicy", 560, 40, 80, 90,
     {{{sourdough, 100}, {ham, 60}, {cheddar, 40}, {chicken, 90}, {salad_leaves, 20}, {tomatoes, 50}}}, {}},
    {"Salads & Bowls", "Seasonal salads and grain bowls, dressed to order.", "SAL", "#27ae60",
     "Caesar Salad|Greek Salad|Niçoise Salad|Quinoa Bowl|Poke Bowl|Chicken Cobb|Superfood Salad|Halloumi Bowl",
     "Large|Vegan|Protein|Side", 690, 50, 120, 85,
     {{{salad_leaves, 120}, {tomatoes, 80}, {chicken, 100}, {avocado, 500}, {cheddar, 30}, {eggs, 1000}}}, {}},
    {"Soups", "A daily changing pot of soup, served with sourdough.", "SOU", "#c0392b",
     "Tomato Soup|Lentil Dal|Minestrone|Leek & Potato|Mushroom Soup|Chicken Noodle|Pea & Mint|Butternut Squash",
     "Large|Spicy|Cup of", 450, 20, 80, 80,
     {{{veg_stock, 300}, {lentils, 60}, {tomatoes, 150}, {butter, 10}, {sourdough, 50}, {chicken, 60}}},
     {{{portion, 1}}}},
    {"Snacks", "Crisps, bars and nuts for the road.", "SNK", "#7f8c8d",
     "Sea Salt Crisps|Salt & Vinegar Crisps|Flapjack|Energy Bar|Salted Cashews|Trail Mix|Rice Cakes|Dark Chocolate Bar|Shortbread",
     "Sharing|Mini|Organic", 150, 20, 60, 0, {}, {{{pc, 1}, {box, 20}}}},
    {"Bottled & Retail", "Bottled drinks, and coffee and tea to take home.", "RET", "#34495e",
     "Mineral Water|Sparkling Mineral Water|Cold-Pressed Juice|Kombucha|Craft Cola|House Blend Beans 250g|Decaf Beans 250g|Loose Tea Tin|Reusable Cup",
     "Large|Organic|Limited Edition|Gift", 190, 60, 150, 0, {}, {{{bottle, 1}, {box, 12}}}},
}};

struct setting_row {
    std::string_view key, value;
};

inline constexpr std::array<setting_row, 9> global_settings{{
    {"company_name", "Corner Café Group"},
    {"currency", "EUR"},
    {"currency_symbol", "€"},
    {"tax_rate", "0.2"},
    {"prices_include_tax", "true"},
    {"locale", "en-IE"},
    {"timezone", "Europe/Dublin"},
    {"tip_suggestions", "10,15,20"},
    {"receipt_footer", "Thank you for your visit! Find us online at cornercafe.example"},
}};

inline constexpr std::array<std::string_view, 8> store_locations{
    "Harbour Street", "Market Square", "Old Town", "Riverside", "Station Road", "University Quarter", "Canal Side",
    "Hill Top"};

inline constexpr std::array<std::int64_t, 9> seat_choices{2, 2, 2, 4, 4, 4, 4, 6, 8};

inline std::vector<std::string_view> split_bar(std::string_view s)
{
    std::vector<std::string_view> out;
    for (std::size_t at = 0;;) {
        const auto bar = s.find('|', at);
        out.push_back(s.substr(at, bar - at));
        if (bar == std::string_view::npos) return out;
        at = bar + 1;
    }
}

inline std::string xml_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

// Up to two letters: the capitals starting the words ("Pain au Chocolat": PC).
inline std::string initials(std::string_view name)
{
    std::string out;
    bool word_start = true;
    for (char c : name) {
        if (c == ' ') {
            word_start = true;
            continue;
        }
        if (word_start && out.size() < 2 && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) out += c;
        word_start = false;
    }
    if (out.empty()) out = "?";
    return out;
}

inline std::string product_svg(std::string_view name, std::string_view colour)
{
    std::string svg;
    svg.reserve(512);
    svg += R"(<svg xmlns="http://www.w3.org/2000/svg" width="110" height="110" viewBox="0 0 110 110"><title>)";
    svg += xml_escape(name);
    svg += R"(</title><rect x="3" y="3" width="104" height="104" rx="20" fill=")";
    svg += xml_escape(colour);
    svg += R"("/><text x="55" y="55" dy="0.35em" text-anchor="middle" font-family="Helvetica,Arial,sans-serif")"
           R"( font-size="40" font-weight="700" fill="#ffffff">)";
    svg += xml_escape(initials(name));
    svg += "</text></svg>";
    return svg;
}

// "COF-0007": the category's code and the product's number within it.
inline std::string sku(std::string_view code, std::size_t number)
{
    std::string digits = std::to_string(number);
    if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
    return std::string(code) + "-" + digits;
}

// Creates `value`, counts it, and hands back the id the store assigned.
template <class E, class Store>
result<std::int64_t> create(Store& store, const E& value, pos::demo_summary& summary)
{
    auto c = store.template create<E>(value);
    if (!c) return c.error();
    ++summary.records;
    return c->record->value.id;
}

} // namespace incsync::detail::demo

namespace incsync::pos {

/// Fills `store` with a demo catalog for a café chain: 10 units of measure,
/// 12 categories, `options.products` products (unique names and SKUs, a few
/// inactive) with unit conversions for the packaged ones, 31 materials with
/// two units each, recipes of 2-4 materials for most prepared products,
/// global settings, and per store of `options.stores` its settings, 8-20
/// tables, an inventory config and invoice/receipt/credit-note prefixes.
///
/// When `images` is non-null and `options.images` is set, each product gets
/// a 110x110 SVG tile stored as `images->put("product", id, "", ...)`, and its
/// record then carries `image_url = "/api/v1/products/{id}/image"` and
/// `image_version = 1` (set by an update after the image is stored, so a
/// client that sees the URL finds the image).
///
/// Deterministic: the same options on an empty store give the same records
/// (ids included; `updated_at` aside) and the same image bytes.
///
/// `Store` must model `pos_server_store`. Thread safety: as the store's
/// writes; meant to run before clients connect. Returns the first error the
/// store reports; records created until then stay (no rollback). Exceptions:
/// only those of allocation, the store and the repository.
template <pos_server_store Store>
result<demo_summary> seed_demo_data(Store& store, server::image_repository* images, const demo_options& options = {})
{
    namespace demo = incsync::detail::demo;
    using demo::categories;
    demo_summary summary;
    demo::splitmix64 rng{options.seed};

    std::array<std::int64_t, demo::unit_count> unit_ids{};
    for (std::size_t u = 0; u < demo::unit_count; ++u) {
        unit_of_measure v;
        v.name = demo::units[u].name;
        v.abbreviation = demo::units[u].abbreviation;
        auto id = demo::create(store, v, summary);
        if (!id) return id.error();
        unit_ids[u] = *id;
    }

    std::array<std::int64_t, categories.size()> category_ids{};
    for (std::size_t c = 0; c < categories.size(); ++c) {
        category v;
        v.name = categories[c].name;
        v.description = std::string(categories[c].description);
        auto id = demo::create(store, v, summary);
        if (!id) return id.error();
        category_ids[c] = *id;
    }

    std::array<std::int64_t, demo::material_count> material_ids{};
    for (std::size_t m = 0; m < demo::material_count; ++m) {
        const auto& row = demo::materials[m];
        material v;
        v.name = row.name;
        v.unit_cost_cents = row.unit_cost_cents;
        auto id = demo::create(store, v, summary);
        if (!id) return id.error();
        material_ids[m] = *id;
        for (auto [unit, factor] : {std::pair{row.unit, decimal::scale}, std::pair{row.alt_unit, row.alt_millionths}}) {
            material_unit_of_measure mu;
            mu.material_id = *id;
            mu.unit_of_measure_id = unit_ids[unit];
            mu.factor = decimal{factor};
            if (auto r = demo::create(store, mu, summary); !r) return r.error();
        }
    }

    // Products: round-robin over the categories; within one, every base name
    // plain, then with each variant, then (for very large counts) numbered.
    const auto image_members = member_set{}
                                   .set(member_index<product>("image_url"))
                                   .set(member_index<product>("image_version"));
    std::vector<std::vector<std::string_view>> bases, variants;
    for (const auto& c : categories) {
        bases.push_back(demo::split_bar(c.bases));
        variants.push_back(demo::split_bar(c.variants));
    }
    for (std::size_t i = 0; i < options.products; ++i) {
        const std::size_t c = i % categories.size();
        const auto& cat = categories[c];
        const std::size_t k = i / categories.size();
        const std::size_t base = k % bases[c].size();
        const std::size_t round = k / bases[c].size();
        const std::size_t variant = round % (variants[c].size() + 1); // 0: plain
        const std::size_t edition = round / (variants[c].size() + 1);

        product p;
        if (variant > 0) p.name = std::string(variants[c][variant - 1]) + " ";
        p.name += bases[c][base];
        if (edition > 0) p.name += " No. " + std::to_string(edition + 1);
        p.sku = demo::sku(cat.sku_code, k + 1);
        const std::int64_t price = cat.price_cents + static_cast<std::int64_t>(base) * cat.price_step_cents
                                 + (variant > 0 ? cat.variant_cents : 0) + rng.between(-2, 3) * 10;
        p.price_cents = std::max<std::int64_t>(50, price / 10 * 10);
        p.category_id = category_ids[c];
        p.is_active = !rng.chance(4);
        auto id = demo::create(store, p, summary);
        if (!id) return id.error();

        if (images && options.images) {
            auto img = server::make_image(demo::product_svg(p.name, cat.colour));
            if (img) {
                if (auto stored = images->put(entity_type_name<product>, *id, "", std::move(img)); !stored)
                    return stored.error();
                p.image_url = "/api/v1/products/" + std::to_string(*id) + "/image";
                p.image_version = 1;
                if (auto r = store.template update<product>(*id, p, image_members); !r) {
                    (void)images->remove(entity_type_name<product>, *id); // keep store and repository in step
                    return r.error();
                }
                ++summary.images;
            }
        }

        for (const auto& su : cat.sold_units) {
            if (su.unit == demo::unit_count) continue;
            product_unit_of_measure pu;
            pu.product_id = *id;
            pu.unit_of_measure_id = unit_ids[su.unit];
            pu.factor = decimal::from_integer(su.factor);
            if (auto r = demo::create(store, pu, summary); !r) return r.error();
        }

        if (cat.recipe_percent == 0 || !rng.chance(cat.recipe_percent)) continue;
        recipe rec;
        rec.product_id = *id;
        rec.name = p.name;
        auto recipe_id = demo::create(store, rec, summary);
        if (!recipe_id) return recipe_id.error();
        std::vector<demo::ingredient> pool;
        for (const auto& in : cat.ingredients)
            if (in.material != demo::material_count) pool.push_back(in);
        const auto wanted = static_cast<std::size_t>(rng.between(2, 4));
        for (std::size_t n = 0; n < wanted && !pool.empty(); ++n) {
            // The first ingredient is the category's staple (beans, tea, flour...).
            const auto pick = n == 0 ? 0 : static_cast<std::size_t>(rng.below(pool.size()));
            const auto in = pool[pick];
            pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
            recipe_material rm;
            rm.recipe_id = *recipe_id;
            rm.material_id = material_ids[in.material];
            // 85%..125% of the usual amount, in whole thousandths.
            rm.quantity = decimal{std::max<std::int64_t>(1, in.thousandths * rng.between(85, 125) / 100) * 1000};
            if (auto r = demo::create(store, rm, summary); !r) return r.error();
        }
    }

    for (const auto& s : demo::global_settings) {
        setting v;
        v.key = s.key;
        v.value = s.value;
        if (auto r = demo::create(store, v, summary); !r) return r.error();
    }

    for (std::size_t n = 0; n < options.stores.size(); ++n) {
        const std::int64_t store_id = options.stores[n];
        const auto number = std::to_string(store_id);
        std::string name = "Corner Café " + std::string(demo::store_locations[n % demo::store_locations.size()]);
        if (n >= demo::store_locations.size())
            name += " " + std::to_string(n / demo::store_locations.size() + 1);
        const std::int64_t opens = rng.between(6, 8);
        const std::array<std::pair<std::string_view, std::string>, 3> store_settings{{
            {"store_name", name},
            {"receipt_header", "Welcome to " + name},
            {"opening_hours", "0" + std::to_string(opens) + ":00-" + std::to_string(opens + 11) + ":00"},
        }};
        for (const auto& [key, value] : store_settings) {
            setting v;
            v.key = key;
            v.value = value;
            v.store_id = store_id;
            if (auto r = demo::create(store, v, summary); !r) return r.error();
        }

        const auto tables = rng.between(8, 20);
        for (std::int64_t t = 1; t <= tables; ++t) {
            table v;
            v.store_id = store_id;
            v.name = "Table " + std::to_string(t);
            v.seats = demo::seat_choices[rng.below(demo::seat_choices.size())];
            v.status = rng.chance(25) ? "occupied" : "free";
            if (auto r = demo::create(store, v, summary); !r) return r.error();
        }

        inventory_config inv;
        inv.store_id = store_id;
        inv.track_stock = true;
        inv.allow_negative_stock = rng.chance(30);
        inv.low_stock_threshold = decimal::from_integer(5 * rng.between(1, 4));
        if (auto r = demo::create(store, inv, summary); !r) return r.error();

        for (auto [type, code] : {std::pair{"invoice", "INV"}, std::pair{"receipt", "RCP"}, std::pair{"credit_note", "CRN"}}) {
            document_prefix v;
            v.store_id = store_id;
            v.document_type = type;
            v.prefix = "S" + number + "-" + code + "-";
            v.next_number = rng.between(1, 2000);
            if (auto r = demo::create(store, v, summary); !r) return r.error();
        }
    }
    return summary;
}

} // namespace incsync::pos

#endif
