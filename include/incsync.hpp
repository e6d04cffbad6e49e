// incsync: incremental, real-time synchronization from a server to many clients.
// The umbrella header: the core, the in-memory stores and the POS binding.
// Adapters with further dependencies (Beast server, SQLite) have their own
// headers and are not included here.
#ifndef INCSYNC_HPP
#define INCSYNC_HPP

#include <incsync/change.hpp>
#include <incsync/codec.hpp>
#include <incsync/cursor.hpp>
#include <incsync/decimal.hpp>
#include <incsync/delta.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>
#include <incsync/hub.hpp>
#include <incsync/member_set.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/merge.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/pull.hpp>
#include <incsync/replicate.hpp>
#include <incsync/store.hpp>
#include <incsync/timestamp.hpp>
#include <incsync/wire/error_response.hpp>
#include <incsync/wire/notification.hpp>
#include <incsync/wire/pull_response.hpp>

#endif
