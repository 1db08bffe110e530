// Owners for libuv handles. Thread: loop.
//
// A uv handle may only be freed from its close callback, after the loop has
// run once more; the owner therefore hands its memory to uv_close and the
// callback frees it. Whoever destroys owners must run the loop afterwards
// (Daemon::run does, in the foreign-loop teardown order).
#pragma once

#include "internal_errors.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace clubvoice {

class UvError : public std::runtime_error {
  public:
    UvError(const std::string& call, int code)
        : std::runtime_error(call + ": " + uv_strerror(code)) {}
};

inline void uv_check(int rc, const char* call) {
    if (rc < 0) throw UvError(call, rc);
}

// The loop itself. Closing fails while handles are open, so the destructor
// runs the loop until every close callback has finished.
class UvLoop {
  public:
    UvLoop() { uv_check(uv_loop_init(&loop_), "uv_loop_init"); }
    ~UvLoop();
    UvLoop(const UvLoop&) = delete;
    UvLoop& operator=(const UvLoop&) = delete;

    uv_loop_t* get() { return &loop_; }
    void run() { uv_run(&loop_, UV_RUN_DEFAULT); }

  private:
    uv_loop_t loop_{};
};

// One handle of type H (uv_timer_t, uv_signal_t, uv_async_t, ...) and the
// callback it calls. Move-only; closing is asynchronous.
template <typename H>
class UvHandle {
  public:
    using Callback = std::function<void()>;

    UvHandle() = default;
    // cb is moved below; clang-tidy 14 misses moves into a dependent member.
    // NOLINTNEXTLINE(performance-unnecessary-value-param)
    explicit UvHandle(Callback cb) : state_(std::make_unique<State>()) {
        state_->callback = std::move(cb);
        state_->handle.data = state_.get();
    }
    UvHandle(UvHandle&&) noexcept = default;
    UvHandle& operator=(UvHandle&& other) noexcept {
        close();
        state_ = std::move(other.state_);
        return *this;
    }
    UvHandle(const UvHandle&) = delete;
    UvHandle& operator=(const UvHandle&) = delete;
    ~UvHandle() { close(); }

    H* get() { return &state_->handle; }
    explicit operator bool() const { return state_ != nullptr; }

    // The C callback libuv calls; forwards to the stored std::function. No
    // exception may unwind into libuv: one is reported and swallowed here
    // (handlers that own a session close it themselves before this).
    template <typename... Ignored>
    static void trampoline(H* handle, Ignored...) noexcept {
        run_guarded("a libuv callback", static_cast<State*>(handle->data)->callback);
    }

    // Starts closing: the memory is freed by the close callback, or right away
    // if the handle was never initialised.
    void close() {
        if (!state_) return;
        if (!state_->initialised) {
            state_.reset();
            return;
        }
        auto* raw = reinterpret_cast<uv_handle_t*>(&state_.release()->handle);
        if (uv_is_closing(raw) == 0) {
            uv_close(raw,
                     [](uv_handle_t* h) { std::unique_ptr<State>(static_cast<State*>(h->data)); });
        }
    }

    void mark_initialised() { state_->initialised = true; }

  private:
    struct State {
        H handle{};
        Callback callback;
        bool initialised = false;
    };
    std::unique_ptr<State> state_;
};

using UvTimer = UvHandle<uv_timer_t>;
using UvSignal = UvHandle<uv_signal_t>;
using UvAsync = UvHandle<uv_async_t>;
using UvCheck = UvHandle<uv_check_t>;
using UvIdle = UvHandle<uv_idle_t>;

// Convenience constructors that initialise and start a handle. Timers count
// from the current time: libuv's cached loop time can be far behind when a
// timer is started from an I/O callback after a long idle wait.
UvTimer start_timer(uv_loop_t* loop, uint64_t first_ms, uint64_t repeat_ms, UvTimer::Callback cb);
// Starts an existing timer again, once, `ms` from now.
void restart_timer(UvTimer& timer, uint64_t ms);
UvSignal watch_signal(uv_loop_t* loop, int signum, UvSignal::Callback cb);
// A check handle, initialised and stopped: run_after_poll() has it call back
// once, right after this loop iteration's I/O callbacks.
UvCheck make_check(uv_loop_t* loop, UvCheck::Callback cb);
void run_after_poll(UvCheck& check);
void stop_check(UvCheck& check);
// An idle handle, initialised and stopped. While it runs (run_each_pass)
// the loop's poll does not wait: I/O is still read between passes.
UvIdle make_idle(uv_loop_t* loop, UvIdle::Callback cb);
void run_each_pass(UvIdle& idle);
void stop_idle(UvIdle& idle);

}  // namespace clubvoice
