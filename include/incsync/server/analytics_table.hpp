// The registers' latest analytics reports, kept by the server so the console
// sees which registers lag: per register in `GET /metrics`, whole in
// `GET /api/v1/sync/analytics`. Reports arrive once a minute or so per
// register, so a mutex is fine here; the table is bounded, and a register
// that stopped reporting is the first to make room.
#ifndef INCSYNC_SERVER_ANALYTICS_TABLE_HPP
#define INCSYNC_SERVER_ANALYTICS_TABLE_HPP

#include <incsync/metrics.hpp>
#include <incsync/timestamp.hpp>
#include <incsync/wire/analytics_report.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace incsync::server {

class analytics_table {
public:
    /// Which register: its store (as its token says) and its id.
    using key = std::pair<std::optional<std::int64_t>, std::int64_t>;

    explicit analytics_table(std::size_t capacity = 10'000) : capacity_(std::max<std::size_t>(capacity, 1)) {}

    /// Keeps `r` as its register's latest report, received at `at`.
    void put(wire::analytics_report r, timestamp at)
    {
        std::lock_guard lock(mutex_);
        key k{r.store_id, r.cash_register_id};
        if (!reports_.contains(k) && reports_.size() >= capacity_) {
            const auto oldest = std::min_element(reports_.begin(), reports_.end(), [](const auto& a, const auto& b) {
                return a.second.received < b.second.received;
            });
            reports_.erase(oldest); // O(n), but only once the table is full
        }
        reports_[k] = entry{std::move(r), at};
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return reports_.size();
    }

    /// Every report as a JSON array, each with `received_at` and
    /// `report_age_seconds` (as of `now`), ordered by store and register.
    std::string to_json(timestamp now) const
    {
        boost::json::array out;
        std::lock_guard lock(mutex_);
        for (const auto& [k, e] : reports_) {
            auto o = wire::to_object(e.report);
            o["received_at"] = format_timestamp(e.received);
            o["report_age_seconds"] = age(e.received, now);
            out.push_back(std::move(o));
        }
        return boost::json::serialize(out);
    }

    /// The per-register families of a scrape (labels `store` and `cash_register`).
    void write(metrics::exposition& e, timestamp now) const
    {
        std::lock_guard lock(mutex_);
        family(e, "incsync_register_report_age_seconds", "gauge", "Seconds since the register's last analytics report.",
               [&](const entry& x) { return age(x.received, now); });
        family(e, "incsync_register_last_sync_age_seconds", "gauge",
               "Seconds since the register's last successful pull (as reported, plus the report's age).",
               [&](const entry& x) -> std::optional<double> {
                   if (!x.report.last_sync_age_seconds) return std::nullopt;
                   return *x.report.last_sync_age_seconds + age(x.received, now);
               });
        family(e, "incsync_register_online", "gauge", "1 when the register's last exchange with the server succeeded.",
               [](const entry& x) { return x.report.online ? 1.0 : 0.0; });
        family(e, "incsync_register_pending_types", "gauge", "Entity types the register knows or suspects it is behind on.",
               [](const entry& x) {
                   return static_cast<double>(std::count_if(x.report.types.begin(), x.report.types.end(),
                                                            [](const wire::type_report& t) { return t.pending; }));
               });
        family(e, "incsync_register_reconnects_total", "counter", "Real-time reconnections since the register's client started.",
               [](const entry& x) { return static_cast<double>(x.report.reconnects); });
        family(e, "incsync_register_offline_seconds_total", "counter",
               "Seconds the register spent offline since its client started.",
               [](const entry& x) { return x.report.offline_seconds; });
        family(e, "incsync_register_pulls_total", "counter", "Successful pulls since the register's client started.",
               [](const entry& x) { return sum(x, &wire::type_report::pulls); });
        family(e, "incsync_register_pull_failures_total", "counter", "Failed pulls since the register's client started.",
               [](const entry& x) { return sum(x, &wire::type_report::failures); });
        family(e, "incsync_register_pull_bytes_total", "counter",
               "Pull body bytes received since the register's client started (as sent: gzipped or not).",
               [](const entry& x) { return sum(x, &wire::type_report::bytes); });
    }

private:
    struct entry {
        wire::analytics_report report;
        timestamp received;
    };

    static double age(timestamp then, timestamp now) noexcept
    {
        return now.micros > then.micros ? static_cast<double>(now.micros - then.micros) / 1e6 : 0.0;
    }

    static double sum(const entry& x, std::uint64_t wire::type_report::*member)
    {
        std::uint64_t n = 0;
        for (const auto& t : x.report.types) n += t.*member;
        return static_cast<double>(n);
    }

    // One family, one sample per register that has a value for it.
    template <class Value>
    void family(metrics::exposition& e, std::string_view name, std::string_view type, std::string_view help,
                Value value) const
    {
        e.family(name, type, help);
        for (const auto& [k, x] : reports_) {
            const std::optional<double> v = value(x);
            if (!v) continue;
            const std::string store = k.first ? std::to_string(*k.first) : "none";
            const std::string id = std::to_string(k.second);
            e.sample(name, {{"store", store}, {"cash_register", id}}, *v);
        }
    }

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::map<key, entry> reports_;
};

} // namespace incsync::server

#endif
