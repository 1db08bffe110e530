// Figures of an event loop's passes: how long each pass kept the loop busy,
// as a histogram, and the longest pass of each second measured against the
// audio frame (a pass longer than a frame delays every listener's next
// packet). Pure: the loop feeds it durations and times. Thread: one owner.
#pragma once

#include "metrics.hpp"

#include <array>
#include <cstdint>

namespace clubvoice {

class PassTimer {
  public:
    // Upper bounds of the histogram's buckets, in seconds (Prometheus' unit).
    static constexpr std::array<double, 10> kBounds{0.0005, 0.001, 0.002, 0.005, 0.01,
                                                    0.02,   0.05,  0.1,   0.25,  1.0};

    explicit PassTimer(std::int64_t budget_ns = 20'000'000) : budget_ns_(budget_ns) {}
    void set_budget(std::int64_t budget_ns) { budget_ns_ = budget_ns; }

    // One pass that was busy for `busy_ns`, ending at `now_ns` (monotonic).
    void add(std::int64_t busy_ns, std::int64_t now_ns);

    std::uint64_t passes() const { return passes_; }
    std::uint64_t over_budget() const { return over_budget_; }
    double busy_seconds() const { return static_cast<double>(busy_ns_total_) / 1e9; }
    // Passes per bucket, cumulative as Prometheus wants them (the last is +Inf).
    std::array<std::uint64_t, kBounds.size() + 1> cumulative() const;
    // The longest pass of the last whole second (of passes ending in it), and
    // of all time, in ms.
    double longest_last_second_ms() const { return static_cast<double>(last_second_max_ns_) / 1e6; }
    double longest_ms() const { return static_cast<double>(max_ns_) / 1e6; }

    // The histogram and figures as clubvoice_loop_* (/status: "loop").
    void report(MetricWriter& out) const;

  private:
    std::int64_t budget_ns_;
    std::array<std::uint64_t, kBounds.size() + 1> buckets_{};
    std::uint64_t passes_ = 0;
    std::uint64_t over_budget_ = 0;
    std::int64_t busy_ns_total_ = 0;
    std::int64_t max_ns_ = 0;
    std::int64_t second_start_ns_ = 0;
    std::int64_t second_max_ns_ = 0;
    std::int64_t last_second_max_ns_ = 0;
};

}  // namespace clubvoice
