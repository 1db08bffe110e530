#include "loop_monitor.hpp"

namespace clubvoice {

LoopMonitor::LoopMonitor(uv_loop_t* loop, std::int64_t frame_ns) : loop_(loop), timer_(frame_ns) {
    uv_check(uv_loop_configure(loop, UV_METRICS_IDLE_TIME), "uv_loop_configure");
    prepare_ = UvHandle<uv_prepare_t>([this] { on_prepare(); });
    uv_check(uv_prepare_init(loop, prepare_.get()), "uv_prepare_init");
    prepare_.mark_initialised();
    uv_check(uv_prepare_start(prepare_.get(), &UvHandle<uv_prepare_t>::trampoline<>),
             "uv_prepare_start");
    // The prepare handle alone must not keep the loop running at shutdown.
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare_.get()));
}

void LoopMonitor::on_prepare() {
    // Right before the loop polls: the pass since the previous poll is over.
    const std::uint64_t now = uv_hrtime();
    const std::uint64_t idle = uv_metrics_idle_time(loop_);
    if (last_ns_ != 0) {
        const auto busy = static_cast<std::int64_t>((now - last_ns_) - (idle - last_idle_ns_));
        timer_.add(busy, static_cast<std::int64_t>(now));
    }
    last_ns_ = now;
    last_idle_ns_ = idle;
}

}  // namespace clubvoice
