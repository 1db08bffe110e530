// One-item hand-off of an owned object between two threads: put() fails (and
// the object stays with the caller) while the slot is full; take() empties
// it. Lock-free, so the audio thread can use it. Thread: one thread puts,
// one other thread takes (a release/acquire pair hands the object over).
#pragma once

#include <atomic>
#include <memory>

namespace clubvoice {

template <typename T>
class Handoff {
  public:
    Handoff() = default;
    Handoff(const Handoff&) = delete;
    Handoff& operator=(const Handoff&) = delete;
    ~Handoff() { std::unique_ptr<T> left(slot_.load()); }

    bool put(std::unique_ptr<T>& item) noexcept {
        T* expected = nullptr;
        if (!slot_.compare_exchange_strong(expected, item.get(), std::memory_order_release,
                                           std::memory_order_relaxed)) {
            return false;
        }
        static_cast<void>(item.release());
        return true;
    }
    std::unique_ptr<T> take() noexcept {
        return std::unique_ptr<T>(slot_.exchange(nullptr, std::memory_order_acquire));
    }

  private:
    std::atomic<T*> slot_{nullptr};
};

}  // namespace clubvoice
