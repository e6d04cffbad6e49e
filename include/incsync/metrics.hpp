// Counters, gauges and histograms that the hot paths can touch without a lock
// (each update is one relaxed atomic operation), and their rendering in the
// Prometheus text exposition format (version 0.0.4), which is what
// `GET /metrics` serves and what every Prometheus-compatible scraper reads.
#ifndef INCSYNC_METRICS_HPP
#define INCSYNC_METRICS_HPP

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::metrics {

/// A count that only goes up (requests answered, bytes served).
class counter {
public:
    void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A level that goes up and down (open connections).
class gauge {
public:
    void add(std::int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    void sub(std::int64_t n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
    void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
    std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

/// A histogram over fixed bucket bounds, in whole units of the caller's
/// choosing (microseconds for latencies, bytes for sizes): observe() is a
/// search over the bounds and two relaxed atomic adds.
class histogram {
public:
    /// `upper_bounds`: ascending, each a bucket's inclusive upper bound (`le`);
    /// one more bucket, +Inf, takes the rest.
    explicit histogram(std::vector<std::uint64_t> upper_bounds)
        : bounds_(std::move(upper_bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1))
    {
        std::sort(bounds_.begin(), bounds_.end());
        bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
    }
    histogram(std::initializer_list<std::uint64_t> upper_bounds)
        : histogram(std::vector<std::uint64_t>(upper_bounds))
    {
    }

    void observe(std::uint64_t v) noexcept
    {
        const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        sum_.fetch_add(v, std::memory_order_relaxed);
    }

    /// The figures at one instant, per bucket (not cumulative); the total
    /// count is their sum, so a scrape is always self-consistent.
    struct snapshot {
        std::vector<std::uint64_t> upper_bounds;
        std::vector<std::uint64_t> counts; ///< upper_bounds.size() + 1, the last for +Inf
        std::uint64_t sum = 0;
        std::uint64_t count() const noexcept
        {
            std::uint64_t n = 0;
            for (auto c : counts) n += c;
            return n;
        }
    };
    snapshot read() const
    {
        snapshot s{bounds_, std::vector<std::uint64_t>(bounds_.size() + 1), sum_.load(std::memory_order_relaxed)};
        for (std::size_t i = 0; i <= bounds_.size(); ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
        return s;
    }

private:
    std::vector<std::uint64_t> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<std::uint64_t> sum_{0};
};

/// Latency buckets in microseconds: 100 µs to 10 s, about three per decade.
inline std::vector<std::uint64_t> latency_buckets_us()
{
    return {100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
            1'000'000, 2'500'000, 5'000'000, 10'000'000};
}

/// One label of a sample: name and value (the value is escaped on output).
using label = std::pair<std::string_view, std::string_view>;

/// Builds a Prometheus text exposition: for each metric family a `# HELP` and
/// a `# TYPE` line, then its samples. Names are the caller's (metric and label
/// names must match [a-zA-Z_:][a-zA-Z0-9_:]*); label values and help texts are
/// escaped here.
class exposition {
public:
    /// Starts a family; `type` is counter, gauge, histogram or untyped.
    void family(std::string_view name, std::string_view type, std::string_view help)
    {
        out_.append("# HELP ").append(name).push_back(' ');
        for (char c : help) {
            if (c == '\\') out_.append("\\\\");
            else if (c == '\n') out_.append("\\n");
            else out_.push_back(c);
        }
        out_.append("\n# TYPE ").append(name).push_back(' ');
        out_.append(type).push_back('\n');
    }

    void sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value)
    {
        head(name, {}, labels);
        append_number(value);
        out_.push_back('\n');
    }
    void sample(std::string_view name, std::initializer_list<label> labels, std::int64_t value)
    {
        head(name, {}, labels);
        if (value < 0) out_.push_back('-');
        append_number(value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
        out_.push_back('\n');
    }
    void sample(std::string_view name, std::initializer_list<label> labels, double value)
    {
        head(name, {}, labels);
        append_double(value);
        out_.push_back('\n');
    }

    /// A histogram's samples (`_bucket` cumulative with `le`, `_sum`,
    /// `_count`); its units are divided by `unit` on output (1e6: microseconds
    /// shown as seconds, Prometheus' base unit).
    void sample(std::string_view name, std::initializer_list<label> labels, const histogram::snapshot& h,
                double unit = 1)
    {
        const std::string bucket = std::string(name) + "_bucket";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.counts.size(); ++i) {
            cumulative += h.counts[i];
            std::string le;
            if (i < h.upper_bounds.size()) le = format_double(static_cast<double>(h.upper_bounds[i]) / unit);
            else le = "+Inf";
            head(bucket, {"le", le}, labels);
            append_number(cumulative);
            out_.push_back('\n');
        }
        head(std::string(name) + "_sum", {}, labels);
        append_double(static_cast<double>(h.sum) / unit);
        out_.push_back('\n');
        head(std::string(name) + "_count", {}, labels);
        append_number(cumulative);
        out_.push_back('\n');
    }

    const std::string& text() const noexcept { return out_; }
    std::string take() && { return std::move(out_); }

    /// The Content-Type of this format.
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

    /// A double as Prometheus reads it: the shortest form that reads back
    /// exactly, in plain decimals between 1e-9 and 1e15 (bucket bounds read
    /// 0.0001, not 1e-04), NaN, +Inf, -Inf.
    static std::string format_double(double v)
    {
        if (std::isnan(v)) return "NaN";
        if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
        char buf[64];
        const double a = std::fabs(v);
        const auto r = a == 0 || (a >= 1e-9 && a < 1e15) ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                                                         : std::to_chars(buf, buf + sizeof buf, v);
        return std::string(buf, r.ptr);
    }

private:
    void head(std::string_view name, label extra, std::initializer_list<label> labels)
    {
        out_.append(name);
        const bool any = labels.size() != 0 || !extra.first.empty();
        if (!any) {
            out_.push_back(' ');
            return;
        }
        out_.push_back('{');
        bool first = true;
        auto put = [&](const label& l) {
            if (!first) out_.push_back(',');
            first = false;
            out_.append(l.first).append("=\"");
            for (char c : l.second) {
                if (c == '\\') out_.append("\\\\");
                else if (c == '"') out_.append("\\\"");
                else if (c == '\n') out_.append("\\n");
                else out_.push_back(c);
            }
            out_.push_back('"');
        };
        for (const auto& l : labels) put(l);
        if (!extra.first.empty()) put(extra);
        out_.append("} ");
    }

    void append_number(std::uint64_t v)
    {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, r.ptr);
    }
    void append_double(double v) { out_.append(format_double(v)); }

    std::string out_;
};

} // namespace incsync::metrics

#endif
