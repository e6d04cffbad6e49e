// Example: the smallest complete use of incsync, in one process.
//
// A server store holds the POS catalog; two registers of two stores keep
// local replicas. The console (admin) writes; each register pulls only what
// changed, following its cursor, and ends with exactly its store's view.
// Over a network the same pulls travel as `GET /api/v1/sync/...` (see
// docs/architecture.md); here they are direct calls.
#include <incsync.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace pos = incsync::pos;
using server_t = incsync::memory::server_store<pos::entities>;
using replica_t = incsync::memory::client_store<pos::entities>;

namespace {

struct cash_register {
    std::string name;
    std::int64_t store_id;
    replica_t replica;
};

// Pull every entity type for one register and print what it applied.
void sync(const server_t& server, cash_register& r)
{
    incsync::for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        auto stats = incsync::replicate<E>(server, r.replica, r.store_id);
        if (!stats) {
            std::cout << "  " << r.name << ": " << incsync::entity_type_name<E> << " failed: " << stats.error() << '\n';
            return;
        }
        if (stats->upserts || stats->deletes)
            std::cout << "  " << r.name << " (store " << r.store_id << "): " << incsync::entity_type_name<E> << " +"
                      << stats->upserts << " upserted, " << stats->deletes << " deleted, now at version "
                      << stats->version << '\n';
    });
}

// Does the register hold exactly the server's view of its store?
bool matches(const server_t& server, const cash_register& r)
{
    bool same = true;
    incsync::for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        auto expected = server.list<E>(r.store_id);
        auto actual = r.replica.all<E>();
        if (!expected || !actual || expected->size() != actual->size()) {
            same = false;
            return;
        }
        for (std::size_t i = 0; i < actual->size(); ++i) same = same && (*expected)[i]->value == (*actual)[i];
    });
    return same;
}

} // namespace

int main()
{
    server_t server;

    // The console seeds a small catalog.
    pos::category drinks;
    drinks.name = "Drinks";
    const auto drinks_id = server.create(drinks)->change.id;
    std::int64_t espresso_id = 0;
    for (auto [name, price] : {std::pair{"Espresso", 250}, {"Cappuccino", 350}, {"Tea", 200}}) {
        pos::product p;
        p.name = name;
        p.sku = std::string(name).substr(0, 3);
        p.price_cents = price;
        p.category_id = drinks_id;
        p.is_active = true;
        const auto id = server.create(p)->change.id;
        if (espresso_id == 0) espresso_id = id;
    }
    std::int64_t store1_table_id = 0;
    for (std::int64_t store : {1, 2}) {
        pos::table t;
        t.store_id = store;
        t.name = "Table 1";
        t.seats = 4;
        t.status = "free";
        const auto id = server.create(t)->change.id;
        if (store == 1) store1_table_id = id;
    }

    cash_register registers[] = {{"register A", 1, {}}, {"register B", 2, {}}};
    std::cout << "initial sync\n";
    for (auto& r : registers) sync(server, r);

    // The console changes a price (one member) and deletes a product, and a
    // table of store 1 becomes occupied: store 2's register never sees it.
    std::cout << "console: Espresso 2.50 -> 2.70, Tea deleted, store 1 table occupied\n";
    pos::product price;
    price.price_cents = 270;
    auto updated = server.update(espresso_id, price, incsync::member_set{}.set(incsync::member_index<pos::product>("price_cents")));
    std::cout << "  committed version " << updated->change.version << " at "
              << incsync::format_timestamp(updated->change.committed_at) << ": " << updated->record->json << '\n';
    (void)server.remove<pos::product>(espresso_id + 2);
    pos::table occupied;
    occupied.status = "occupied";
    auto table = server.update(store1_table_id, occupied, incsync::member_set{}.set(incsync::member_index<pos::table>("status")));
    if (!table) {
        std::cerr << "table update failed: " << table.error() << '\n';
        return EXIT_FAILURE;
    }

    std::cout << "incremental sync\n";
    for (auto& r : registers) sync(server, r);

    bool ok = true;
    for (auto& r : registers) {
        const bool same = matches(server, r);
        ok = ok && same;
        std::cout << r.name << (same ? " matches" : " DIFFERS FROM") << " the server's view of store " << r.store_id << '\n';
    }
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
