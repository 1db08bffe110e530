#include "pass_timer.hpp"

#include "prometheus.hpp"

#include <fmt/format.h>

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

void PassTimer::append_metrics(std::string& out, const std::string& prefix) const {
    const std::string name = prefix + "_pass_seconds";
    fmt::format_to(std::back_inserter(out),
                   "# HELP {0} How long each pass of the event loop kept it busy.\n"
                   "# TYPE {0} histogram\n",
                   name);
    const auto counts = cumulative();
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i],
                       counts[i]);
    }
    fmt::format_to(std::back_inserter(out),
                   "{0}_bucket{{le=\"+Inf\"}} {1}\n{0}_sum {2}\n{0}_count {1}\n", name, passes_,
                   busy_seconds());
    append_metric(out, prefix + "_longest_pass_ms", MetricType::gauge,
                  "The longest event-loop pass of the last whole second, in ms.",
                  longest_last_second_ms());
    append_metric(out, prefix + "_passes_over_frame_total", MetricType::counter,
                  "Event-loop passes longer than one audio frame (audio.frame_ms).",
                  static_cast<double>(over_budget_));
}

}  // namespace clubvoice
