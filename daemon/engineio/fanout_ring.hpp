// The last N items of a stream, addressed by sequence number. Readers keep
// only the sequence number they need next; one that falls more than N behind
// skips to the oldest item still held and counts what it missed (see
// Subscriber). Thread: loop.
#pragma once

#include <cstdint>
#include <vector>

namespace clubvoice {

template <typename T>
class FanoutRing {
  public:
    explicit FanoutRing(std::size_t capacity) : items_(capacity == 0 ? 1 : capacity) {}

    // Stores an item and returns its sequence number.
    std::uint64_t push(T item) {
        items_[head_ % items_.size()] = std::move(item);
        return head_++;
    }
    std::uint64_t head() const { return head_; }  // the next sequence number to be pushed
    std::uint64_t tail() const { return head_ > items_.size() ? head_ - items_.size() : 0; }
    std::size_t capacity() const { return items_.size(); }

    // The item with this sequence number, or nullptr when it is not held.
    const T* get(std::uint64_t seq) const {
        if (seq >= head_ || seq < tail()) return nullptr;
        return &items_[seq % items_.size()];
    }

  private:
    std::vector<T> items_;
    std::uint64_t head_ = 0;
};

// One reader's position in a FanoutRing.
struct RingPosition {
    std::uint64_t next = 0;
    std::uint64_t dropped = 0;  // items skipped because the reader fell out of the ring

    // The next item to send, skipping forward (and counting) when the reader
    // fell behind the ring; nullptr when it is up to date.
    template <typename T>
    const T* take(const FanoutRing<T>& ring) {
        if (next < ring.tail()) {
            dropped += ring.tail() - next;
            next = ring.tail();
        }
        const T* item = ring.get(next);
        if (item != nullptr) ++next;
        return item;
    }
    // Items lost so far, counting those already out of the ring but not yet skipped.
    template <typename T>
    std::uint64_t lost(const FanoutRing<T>& ring) const {
        return dropped + (next < ring.tail() ? ring.tail() - next : 0);
    }
    template <typename T>
    bool pending(const FanoutRing<T>& ring) const {
        return next < ring.head();
    }
};

}  // namespace clubvoice
