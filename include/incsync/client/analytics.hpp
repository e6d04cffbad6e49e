// The client's status as the analytics report a register sends to the server
// (`client_options::analytics_interval`), and as text for an operator
// (`incsync-pos-client --stats`).
#ifndef INCSYNC_CLIENT_ANALYTICS_HPP
#define INCSYNC_CLIENT_ANALYTICS_HPP

#include <incsync/client/status.hpp>
#include <incsync/wire/analytics_report.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace incsync::client {

inline double seconds_of(std::chrono::microseconds d) noexcept { return static_cast<double>(d.count()) / 1e6; }

/// The report of a register whose status is `s`, as of `now`.
inline wire::analytics_report to_analytics_report(const sync_status& s, std::int64_t cash_register_id,
                                                  std::optional<std::int64_t> store_id, timestamp now)
{
    wire::analytics_report r;
    r.cash_register_id = cash_register_id;
    r.store_id = store_id;
    r.online = s.online;
    r.realtime = std::string(to_string(s.realtime));
    r.reconnects = s.reconnects;
    r.offline_seconds = seconds_of(s.offline_for(now));
    r.notifications = s.notifications;
    if (s.last_sync && now.micros >= s.last_sync->micros)
        r.last_sync_age_seconds = static_cast<double>(now.micros - s.last_sync->micros) / 1e6;
    for (const auto& t : s.types) {
        wire::type_report w;
        w.entity_type = t.entity_type;
        w.version = t.version;
        w.pending = t.pending;
        w.pulls = t.pulls;
        w.failures = t.failures;
        w.records = t.records;
        w.bytes = t.bytes;
        if (t.last_pull)
            w.last_pull = wire::last_pull_report{seconds_of(t.last_pull->duration), t.last_pull->records,
                                                 t.last_pull->bytes, std::string(to_string(t.last_pull->error))};
        r.types.push_back(std::move(w));
    }
    return r;
}

/// A table of the status for a terminal: the link, then one line per type
/// with its last pull and its totals.
inline std::string format_stats(const sync_status& s, timestamp now)
{
    char line[256];
    std::string out;
    std::snprintf(line, sizeof line,
                  "link: %s, realtime %s, %llu reconnects, %.1f s offline, %llu notifications (%llu already held)\n",
                  s.online ? "online" : "offline", std::string(to_string(s.realtime)).c_str(),
                  static_cast<unsigned long long>(s.reconnects), seconds_of(s.offline_for(now)),
                  static_cast<unsigned long long>(s.notifications),
                  static_cast<unsigned long long>(s.notifications_skipped));
    out += line;
    std::snprintf(line, sizeof line, "%-26s %9s %9s %8s %10s %-14s %7s %6s %9s %11s\n", "type", "version", "last ms",
                  "records", "bytes", "error", "pulls", "fails", "records", "bytes");
    out += line;
    for (const auto& t : s.types) {
        const auto& p = t.last_pull;
        std::snprintf(line, sizeof line, "%-26s %9llu %9.1f %8zu %10zu %-14s %7llu %6llu %9llu %11llu\n",
                      t.entity_type.c_str(), static_cast<unsigned long long>(t.version),
                      p ? static_cast<double>(p->duration.count()) / 1e3 : 0.0, p ? p->records : 0,
                      p ? p->bytes : 0, p ? std::string(to_string(p->error)).c_str() : "-",
                      static_cast<unsigned long long>(t.pulls), static_cast<unsigned long long>(t.failures),
                      static_cast<unsigned long long>(t.records), static_cast<unsigned long long>(t.bytes));
        out += line;
    }
    std::snprintf(line, sizeof line, "%-26s %9s %9s %8s %10s %-14s %7llu %6llu %9llu %11llu\n", "total", "", "", "",
                  "", "", static_cast<unsigned long long>(s.pulls()), static_cast<unsigned long long>(s.failures()),
                  static_cast<unsigned long long>(s.records()), static_cast<unsigned long long>(s.bytes()));
    out += line;
    return out;
}

} // namespace incsync::client

#endif
