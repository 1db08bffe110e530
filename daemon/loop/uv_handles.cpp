#include "uv_handles.hpp"

namespace clubvoice {

UvLoop::~UvLoop() {
    // Handles still open here are being closed; let their callbacks run.
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
}

UvTimer start_timer(uv_loop_t* loop, uint64_t first_ms, uint64_t repeat_ms, UvTimer::Callback cb) {
    UvTimer timer(std::move(cb));
    uv_check(uv_timer_init(loop, timer.get()), "uv_timer_init");
    timer.mark_initialised();
    uv_update_time(loop);
    uv_check(uv_timer_start(timer.get(), &UvTimer::trampoline, first_ms, repeat_ms),
             "uv_timer_start");
    return timer;
}

void restart_timer(UvTimer& timer, uint64_t ms) {
    uv_update_time(timer.get()->loop);
    uv_check(uv_timer_start(timer.get(), &UvTimer::trampoline<>, ms, 0), "uv_timer_start");
}

UvCheck make_check(uv_loop_t* loop, UvCheck::Callback cb) {
    UvCheck check(std::move(cb));
    uv_check(uv_check_init(loop, check.get()), "uv_check_init");
    check.mark_initialised();
    return check;
}

void run_after_poll(UvCheck& check) {
    uv_check(uv_check_start(check.get(), &UvCheck::trampoline<>), "uv_check_start");
}

void stop_check(UvCheck& check) {
    uv_check(uv_check_stop(check.get()), "uv_check_stop");
}

UvIdle make_idle(uv_loop_t* loop, UvIdle::Callback cb) {
    UvIdle idle(std::move(cb));
    uv_check(uv_idle_init(loop, idle.get()), "uv_idle_init");
    idle.mark_initialised();
    return idle;
}

void run_each_pass(UvIdle& idle) {
    uv_check(uv_idle_start(idle.get(), &UvIdle::trampoline<>), "uv_idle_start");
}

void stop_idle(UvIdle& idle) {
    uv_check(uv_idle_stop(idle.get()), "uv_idle_stop");
}

UvSignal watch_signal(uv_loop_t* loop, int signum, UvSignal::Callback cb) {
    UvSignal sig(std::move(cb));
    uv_check(uv_signal_init(loop, sig.get()), "uv_signal_init");
    sig.mark_initialised();
    uv_check(uv_signal_start(sig.get(), &UvSignal::trampoline<int>, signum), "uv_signal_start");
    return sig;
}

}  // namespace clubvoice
