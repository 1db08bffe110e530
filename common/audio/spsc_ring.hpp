// A bounded single-producer single-consumer ring of trivially copyable items.
//
// Lock-free and allocation-free after construction, so the real-time audio
// thread can use it: the producer owns `head_`, the consumer owns `tail_`;
// each publishes its index with a release store and reads the other's with an
// acquire load, so the items written before a publish are visible after it.
// Indices run freely (unsigned wrap-around is well defined) and the capacity is
// a power of two, so a position is `index & mask_`.
//
// Thread: one producer thread and one consumer thread (fixed for the ring's
// life); construction and destruction happen while neither is using it.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

namespace clubvoice {

template <typename T>
class SpscRing {
    static_assert(std::is_trivially_copyable_v<T>, "items are copied with memcpy");

  public:
    // Holds at least `min_capacity` items (rounded up to a power of two).
    explicit SpscRing(std::size_t min_capacity)
        : mask_(std::bit_ceil(std::max<std::size_t>(min_capacity, 2)) - 1),
          items_(std::make_unique<T[]>(mask_ + 1)) {}
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    std::size_t capacity() const { return mask_ + 1; }

    // Producer side.

    std::size_t write_available() const {
        return capacity() -
               (head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_acquire));
    }
    // Appends as many items as fit; returns how many.
    std::size_t push_some(std::span<const T> items) {
        const std::size_t head = head_.load(std::memory_order_relaxed);
        const std::size_t n = std::min(items.size(), write_available());
        copy_in(head, items.first(n));
        head_.store(head + n, std::memory_order_release);
        return n;
    }
    // Appends all items, or none when they do not all fit.
    bool push_all(std::span<const T> items) {
        if (items.size() > write_available()) return false;
        push_some(items);
        return true;
    }
    bool push(const T& item) { return push_all(std::span<const T>(&item, 1)); }

    // Consumer side.

    std::size_t read_available() const {
        return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed);
    }
    // Removes up to out.size() items into `out`; returns how many.
    std::size_t pop_some(std::span<T> out) {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        const std::size_t n = std::min(out.size(), read_available());
        copy_out(tail, out.first(n));
        tail_.store(tail + n, std::memory_order_release);
        return n;
    }
    bool pop(T& out) { return pop_some(std::span<T>(&out, 1)) == 1; }
    // Drops up to n items without copying them; returns how many.
    std::size_t discard(std::size_t n) {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        n = std::min(n, read_available());
        tail_.store(tail + n, std::memory_order_release);
        return n;
    }

  private:
    // Copies in at most two pieces: up to the end of the storage, then from its start.
    void copy_in(std::size_t index, std::span<const T> items) {
        if (items.empty()) return;  // an empty span may carry a null pointer
        const std::size_t at = index & mask_;
        const std::size_t first = std::min(items.size(), capacity() - at);
        std::memcpy(&items_[at], items.data(), first * sizeof(T));
        std::memcpy(&items_[0], items.data() + first, (items.size() - first) * sizeof(T));
    }
    void copy_out(std::size_t index, std::span<T> out) const {
        if (out.empty()) return;
        const std::size_t at = index & mask_;
        const std::size_t first = std::min(out.size(), capacity() - at);
        std::memcpy(out.data(), &items_[at], first * sizeof(T));
        std::memcpy(out.data() + first, &items_[0], (out.size() - first) * sizeof(T));
    }

    // Separate cache lines: the two threads each write one index.
    alignas(64) std::atomic<std::size_t> head_{0};  // written by the producer
    alignas(64) std::atomic<std::size_t> tail_{0};  // written by the consumer
    alignas(64) const std::size_t mask_;
    const std::unique_ptr<T[]> items_;
};

}  // namespace clubvoice
