// Reports a count that keeps growing (xruns, late wake-ups) at most once per
// interval: a fault that repeats every period would otherwise fill the
// journal. Each report says how many are new since the last one and the
// total. Thread: one owner (the loop).
#pragma once

#include <cstdint>

namespace clubvoice {

class RateLimitedLog {
  public:
    explicit RateLimitedLog(std::uint64_t interval_ms) : interval_ms_(interval_ms) {}

    // Calls report(new_since_last, total) when `total` has grown since the
    // last report and the interval since it has passed (now_ms: uv_now).
    template <typename Report>
    void update(std::uint64_t total, std::uint64_t now_ms, Report&& report) {
        if (total == reported_ ||
            (reported_at_ms_ != 0 && now_ms - reported_at_ms_ < interval_ms_)) {
            return;
        }
        report(total - reported_, total);
        reported_ = total;
        reported_at_ms_ = now_ms;
    }
    // The count starts again from 0 (a new audio thread); the interval goes on.
    void restart_count() { reported_ = 0; }

  private:
    std::uint64_t interval_ms_;
    std::uint64_t reported_ = 0;        // the total at the last report
    std::uint64_t reported_at_ms_ = 0;  // when it was made; 0: never
};

}  // namespace clubvoice
