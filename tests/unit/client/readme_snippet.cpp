// The README's register-client snippet, compiled and run (against a port
// where no server listens: the client must stay silent and report offline).
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/client/beast_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/client/sync_thread.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/pos/entities.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

BOOST_AUTO_TEST_CASE(readme_register_client_snippet)
{
    boost::asio::io_context ui;
    auto ui_executor = ui.get_executor();
    struct {
        int shown = 0;
        bool offline_seen = false;
        void show(const incsync::client::sync_status& s)
        {
            ++shown;
            offline_seen = offline_seen || (!s.online && s.has_error());
        }
    } bottom_bar;
    {
        // ---- README: "In your own register application" (port 1: nobody listens) ----
        namespace pos = incsync::pos;
        namespace client = incsync::client;

        incsync::memory::client_store<pos::entities> replica;  // the register's local data
        client::beast_transport transport(*client::parse_server_url("http://127.0.0.1:1"));
        client::sync_thread sync;                               // sync work: its own low-priority thread

        client::client_options options;
        options.token = "till-1";
        options.store_id = 1;
        options.cash_register_id = 7;
        client::sync_client<decltype(replica), client::beast_transport> register7(
            sync.executor(), replica, transport, options);
        register7.start();  // initial sync, WebSocket, reconnects, images: all silent

        // The UI gets status snapshots on its own executor; nothing ever throws into it.
        auto subscription = register7.subscribe(ui_executor, [&](const client::sync_status& s) { bottom_bar.show(s); });
        auto espresso = replica.get<pos::product>(1); // the POS reads its replica at any time
        register7.sync_now();                          // the operator's "Sync Now"
        // ---- end of the README snippet ----

        BOOST_TEST(espresso.has_value()); // a read, not an error: nothing is there yet
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!bottom_bar.offline_seen && std::chrono::steady_clock::now() < deadline) {
            ui.run_for(std::chrono::milliseconds(5));
            ui.restart();
        }
        register7.stop();
    }
    BOOST_TEST(bottom_bar.offline_seen);
    BOOST_TEST(bottom_bar.shown > 0);
}
