// Starting a real-time thread, and locking memory for it.
//
// The thread gets a small fixed stack of its own, mapped and locked into
// memory before the thread starts (mlockall(MCL_CURRENT) cannot cover a stack
// mapped later, and its first page faults would come on the real-time path),
// and SCHED_FIFO when a priority is asked for and the system allows it; when
// it does not, the thread runs at normal priority and the caller learns why,
// to say so once. Thread: created and joined by one thread (the loop).
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace clubvoice {

class RealtimeThread {
  public:
    RealtimeThread() = default;
    RealtimeThread(const RealtimeThread&) = delete;
    RealtimeThread& operator=(const RealtimeThread&) = delete;
    ~RealtimeThread() { join(); }

    // Runs `body` on a new thread. priority 1..99 asks for SCHED_FIFO; 0 for
    // normal scheduling. Throws std::system_error when no thread can be made.
    void start(std::function<void()> body, int priority, std::size_t stack_bytes);
    void join();
    bool running() const { return state_ != nullptr; }

    // True when the thread runs at SCHED_FIFO.
    bool realtime() const { return realtime_; }
    // Why SCHED_FIFO was not granted, e.g. "SCHED_FIFO priority 60:
    // Operation not permitted"; empty when granted or not asked for.
    const std::string& refused() const { return refused_; }
    // CPU time the thread has used, in seconds (0 when not running).
    double cpu_seconds() const;

  private:
    struct State {
        std::function<void()> body;
    };
    // The thread's stack: mapped, and locked when memory locking is available.
    struct Stack {
        void* base = nullptr;
        std::size_t bytes = 0;
        Stack() = default;
        explicit Stack(std::size_t size);
        ~Stack();
        Stack(const Stack&) = delete;
        Stack& operator=(const Stack&) = delete;
    };
    static void* entry(void* state);

    std::unique_ptr<State> state_;
    std::unique_ptr<Stack> stack_;  // outlives the thread: freed after the join
    pthread_t thread_{};
    bool realtime_ = false;
    std::string refused_;
};

// False in sanitizer builds: the address sanitizer's shadow memory spans
// terabytes, and the sanitizers turn mlockall into a no-op that reports success.
constexpr bool memory_locking_available() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return false;
#else
    return true;
#endif
}

// Locks the pages mapped now into memory (mlockall(MCL_CURRENT)), so the audio
// thread's rings never page-fault; call it before the thread starts. Future
// allocations are not locked: MCL_FUTURE would make the daemon's later
// allocations fail once RLIMIT_MEMLOCK is reached. Returns why it did not
// lock (empty on success).
std::string lock_memory();

// Locks one buffer allocated later for a real-time thread (a reopened
// device's buffers). Best effort, like lock_memory(); false when refused.
bool lock_buffer(const void* data, std::size_t bytes);

}  // namespace clubvoice
