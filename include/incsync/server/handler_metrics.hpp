// What the request handler counts, for `GET /metrics`: requests by route and
// status with their latency, and pulls by entity type and status with the
// records and bytes they served. Fixed arrays of atomics indexed by route,
// status and entity type: recording a request takes no lock and allocates
// nothing.
#ifndef INCSYNC_SERVER_HANDLER_METRICS_HPP
#define INCSYNC_SERVER_HANDLER_METRICS_HPP

#include <incsync/entity.hpp>
#include <incsync/metrics.hpp>

#include <boost/mp11/algorithm.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace incsync::server {

/// The kinds of request the handler tells apart in its metrics.
enum class request_route : std::size_t { pull, check, analytics, admin, other };

template <entity_list_like Entities>
class handler_metrics {
public:
    static constexpr std::size_t type_count = boost::mp11::mp_size<Entities>::value;
    static constexpr std::array<std::string_view, 5> route_names{"pull", "check", "analytics", "admin", "other"};
    /// The statuses the handler answers with, and their label; anything else
    /// counts as "other".
    struct status_label {
        unsigned code;
        std::string_view text;
    };
    static constexpr std::array<status_label, 14> statuses{{{200, "200"}, {201, "201"}, {204, "204"}, {304, "304"},
                                                            {400, "400"}, {401, "401"}, {403, "403"}, {404, "404"},
                                                            {405, "405"}, {409, "409"}, {410, "410"}, {413, "413"},
                                                            {429, "429"}, {500, "500"}}};

    handler_metrics()
    {
        for (auto& h : latency_) h.emplace(metrics::latency_buckets_us());
    }

    void request(request_route route, unsigned status, std::chrono::steady_clock::duration took) noexcept
    {
        const auto r = static_cast<std::size_t>(route);
        requests_[r][status_index(status)].add();
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
        latency_[r]->observe(us < 0 ? 0 : static_cast<std::uint64_t>(us));
    }

    /// A pull of `E`: its status, and when it succeeded the records (upserts
    /// and deletions) and body bytes it served, before and after compression.
    template <class E>
    void pull(unsigned status, std::size_t records, std::size_t bytes, std::size_t wire_bytes) noexcept
    {
        auto& t = types_[index_of<E>];
        t.by_status[status_index(status)].add();
        t.records.add(records);
        t.bytes.add(bytes);
        t.wire_bytes.add(wire_bytes);
        if (wire_bytes != bytes) t.compressed.add();
    }

    /// Appends the families to a scrape.
    void write(metrics::exposition& e) const
    {
        e.family("incsync_http_requests_total", "counter",
                 "API requests answered by the handler, by route (pull, check, analytics, admin, other) and status.");
        for (std::size_t r = 0; r < route_names.size(); ++r)
            for (std::size_t s = 0; s <= statuses.size(); ++s)
                if (const auto n = requests_[r][s].value())
                    e.sample("incsync_http_requests_total", {{"route", route_names[r]}, {"status", status_name(s)}}, n);

        e.family("incsync_http_request_duration_seconds", "histogram",
                 "Time the handler took to answer, by route (the socket write not included).");
        for (std::size_t r = 0; r < route_names.size(); ++r)
            e.sample("incsync_http_request_duration_seconds", {{"route", route_names[r]}}, latency_[r]->read(), 1e6);

        e.family("incsync_pulls_total", "counter", "Pulls by entity type and status.");
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            const auto& t = types_[index_of<E>];
            for (std::size_t s = 0; s <= statuses.size(); ++s)
                if (const auto n = t.by_status[s].value())
                    e.sample("incsync_pulls_total", {{"entity_type", entity_type_name<E>}, {"status", status_name(s)}}, n);
        });
        per_type(e, "incsync_pull_records_total", "Records (upserts and deletions) served by pulls, by entity type.",
                 &per_type_counters::records);
        per_type(e, "incsync_pull_bytes_total", "Response body bytes served by pulls, by entity type (before any compression).",
                 &per_type_counters::bytes);
        per_type(e, "incsync_pull_wire_bytes_total",
                 "Response body bytes of pulls as sent, by entity type (after gzip where the client accepted it).",
                 &per_type_counters::wire_bytes);
        per_type(e, "incsync_pulls_gzipped_total", "Pulls answered with a gzip body, by entity type.",
                 &per_type_counters::compressed);
    }

private:
    struct per_type_counters {
        std::array<metrics::counter, statuses.size() + 1> by_status;
        metrics::counter records;
        metrics::counter bytes;
        metrics::counter wire_bytes;
        metrics::counter compressed;
    };

    // A counter family with one sample per entity type.
    void per_type(metrics::exposition& e, std::string_view name, std::string_view help,
                  metrics::counter per_type_counters::*which) const
    {
        e.family(name, "counter", help);
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            e.sample(name, {{"entity_type", entity_type_name<E>}}, (types_[index_of<E>].*which).value());
        });
    }

    template <class E>
    static constexpr std::size_t index_of = boost::mp11::mp_find<Entities, E>::value;

    static std::size_t status_index(unsigned status) noexcept
    {
        for (std::size_t i = 0; i < statuses.size(); ++i)
            if (statuses[i].code == status) return i;
        return statuses.size();
    }
    static std::string_view status_name(std::size_t i) noexcept
    {
        return i < statuses.size() ? statuses[i].text : "other";
    }

    std::array<std::array<metrics::counter, statuses.size() + 1>, route_names.size()> requests_;
    std::array<std::optional<metrics::histogram>, route_names.size()> latency_;
    std::array<per_type_counters, type_count> types_;
};

} // namespace incsync::server

#endif
