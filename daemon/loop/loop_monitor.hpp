// Measures every pass of the event loop: the time between two polls minus
// what libuv spent waiting in the poll (uv_metrics_idle_time), so a pass is
// the work the loop did, whatever woke it. Thread: loop.
#pragma once

#include "pass_timer.hpp"
#include "uv_handles.hpp"

#include <cstdint>

namespace clubvoice {

class LoopMonitor {
  public:
    // Turns on libuv's idle-time metric: call before the loop first runs.
    LoopMonitor(uv_loop_t* loop, std::int64_t frame_ns);
    void set_frame(std::int64_t frame_ns) { timer_.set_budget(frame_ns); }
    void stop() { prepare_.close(); }
    const PassTimer& passes() const { return timer_; }

  private:
    void on_prepare();

    uv_loop_t* loop_;
    UvHandle<uv_prepare_t> prepare_;
    PassTimer timer_;
    std::uint64_t last_ns_ = 0;
    std::uint64_t last_idle_ns_ = 0;
};

}  // namespace clubvoice
