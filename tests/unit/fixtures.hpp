// Small POS values shared by the unit tests.
#ifndef INCSYNC_TESTS_UNIT_FIXTURES_HPP
#define INCSYNC_TESTS_UNIT_FIXTURES_HPP

#include <incsync/pos/entities.hpp>

#include <string>

namespace fixtures {

inline incsync::pos::product named(std::string name, std::int64_t price = 100)
{
    incsync::pos::product p;
    p.name = std::move(name);
    p.price_cents = price;
    return p;
}

inline incsync::pos::table table_of(std::int64_t store, std::string name)
{
    incsync::pos::table t;
    t.store_id = store;
    t.name = std::move(name);
    return t;
}

} // namespace fixtures

#endif
