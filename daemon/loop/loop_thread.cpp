#include "loop_thread.hpp"

#include <cstdio>
#include <cstdlib>

namespace clubvoice {

void bind_loop_thread() noexcept {
    detail::loop_thread_id.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

namespace detail {

void off_loop_thread(const char* function, const char* file, int line) noexcept {
    // Not through log: the caller may be a real-time thread, and this is the end anyway.
    static_cast<void>(std::fprintf(
        stderr,
        "clubvoiced: %s (%s:%d) runs on the loop thread only, and was called from another "
        "thread\n",
        function, file, line));
    std::abort();
}

}  // namespace detail
}  // namespace clubvoice
