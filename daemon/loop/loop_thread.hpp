// Which thread runs the loop, and a debug-build check that loop-only code
// runs there. Each class says its thread in its header ("Thread: loop."); the
// loop-only entry points of the classes the other threads live next to (the
// Engine.IO and Socket.IO servers, the audio engine, the talk mixer) call
// assert_on_loop(), so a call from the audio or mixer thread, which would
// race with the loop, aborts at once in debug builds instead of corrupting
// state now and then. Until bind_loop_thread() is called nothing is checked:
// unit tests run loop code on threads of their own. Release builds (NDEBUG)
// check nothing. Thread: any.
#pragma once

#include <atomic>
#include <thread>

namespace clubvoice {

// Records the calling thread as the loop's. Call once, on that thread, before
// the loop runs.
void bind_loop_thread() noexcept;

namespace detail {
// The bound loop thread; a default id (no thread) until bind_loop_thread().
inline std::atomic<std::thread::id> loop_thread_id{};
[[noreturn]] void off_loop_thread(const char* function, const char* file, int line) noexcept;
}  // namespace detail

// Debug builds: aborts, naming the caller, when called on another thread
// than the bound loop thread. One relaxed load and a compare. (The builtins
// rather than std::source_location, which clang-tidy 14 cannot parse.)
inline void assert_on_loop([[maybe_unused]] const char* function = __builtin_FUNCTION(),
                           [[maybe_unused]] const char* file = __builtin_FILE(),
                           [[maybe_unused]] int line = __builtin_LINE()) noexcept {
#ifndef NDEBUG
    const std::thread::id loop = detail::loop_thread_id.load(std::memory_order_relaxed);
    if (loop != std::thread::id{} && loop != std::this_thread::get_id()) {
        detail::off_loop_thread(function, file, line);
    }
#endif
}

}  // namespace clubvoice
