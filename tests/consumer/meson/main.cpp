// A Meson consumer: incsync as a subproject; includes the umbrella header and syncs.
#include <incsync.hpp>

int main()
{
    incsync::memory::server_store<incsync::pos::entities> server;
    incsync::memory::client_store<incsync::pos::entities> replica;
    incsync::pos::product p;
    p.name = "Espresso";
    if (!server.create(p)) return 1;
    auto stats = incsync::replicate_all(server, replica, 1);
    return stats && replica.size<incsync::pos::product>() == 1 ? 0 : 1;
}
