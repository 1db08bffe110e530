#include "pass_timer.hpp"

#include <algorithm>

namespace clubvoice {

void PassTimer::add(std::int64_t busy_ns, std::int64_t now_ns) {
    busy_ns = std::max<std::int64_t>(busy_ns, 0);
    const double seconds = static_cast<double>(busy_ns) / 1e9;
    const auto* bound = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
    ++buckets_[static_cast<std::size_t>(bound - kBounds.begin())];
    ++passes_;
    if (busy_ns > budget_ns_) ++over_budget_;
    busy_ns_total_ += busy_ns;
    max_ns_ = std::max(max_ns_, busy_ns);
    if (now_ns - second_start_ns_ >= 1'000'000'000) {
        // A new second: the one before it is complete. (A pass longer than a
        // second belongs to the second it ends in, reported when that ends.)
        last_second_max_ns_ = second_max_ns_;
        second_start_ns_ = now_ns;
        second_max_ns_ = 0;
    }
    second_max_ns_ = std::max(second_max_ns_, busy_ns);
}

std::array<std::uint64_t, PassTimer::kBounds.size() + 1> PassTimer::cumulative() const {
    std::array<std::uint64_t, kBounds.size() + 1> out{};
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = sum += buckets_[i];
    return out;
}

namespace {

constexpr MetricInfo kPassSeconds{"clubvoice_loop_pass_seconds", MetricType::histogram, "s",
                                  "/loop/passes",
                                  "How long each pass of the event loop kept it busy."};

constexpr auto kLoopMetrics = std::to_array<Metric<PassTimer>>({
    {{"clubvoice_loop_busy_seconds_total", MetricType::counter, "s", "/loop/busy_s",
      "Time the event loop spent working (not waiting in its poll)."},
     [](const PassTimer& t) { return t.busy_seconds(); }},
    {{"clubvoice_loop_longest_pass_ms", MetricType::gauge, "ms", "/loop/longest_pass_last_s_ms",
      "The longest event-loop pass of the last whole second, in ms."},
     [](const PassTimer& t) { return t.longest_last_second_ms(); }},
    {{"clubvoice_loop_longest_pass_ever_ms", MetricType::gauge, "ms", "/loop/longest_pass_ms",
      "The longest event-loop pass since the daemon started, in ms."},
     [](const PassTimer& t) { return t.longest_ms(); }},
    {{"clubvoice_loop_passes_over_frame_total", MetricType::counter, "", "/loop/passes_over_frame",
      "Event-loop passes longer than one audio frame (audio.frame_ms)."},
     [](const PassTimer& t) { return static_cast<double>(t.over_budget()); }},
});

}  // namespace

void PassTimer::report(MetricWriter& out) const {
    const auto counts = cumulative();
    out.add_histogram(kPassSeconds, kBounds, counts, busy_seconds());
    write_metrics<PassTimer>(kLoopMetrics, *this, out);
}

}  // namespace clubvoice
