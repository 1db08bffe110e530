// The stream's fan-out without sockets: the ring of pre-framed packets,
// every reader's place in it, and what happens to a reader that falls
// behind. It skips forward to the oldest packet still held, counting what it
// missed, as soon as it can take packets again; one that stays behind the
// whole ring for longer than `lag_close_ms` is to be cut, so a client that
// stopped reading stops costing anything. EioServer writes what take()
// hands out and closes whom check() names. Thread: loop.
#pragma once

#include "fanout_ring.hpp"

#include <cstdint>
#include <utility>

namespace clubvoice {

// One reader's state (kept in its session).
struct StreamReader {
    RingPosition position;
    std::uint64_t lagging_since_ms = 0;  // when it fell out of the ring; 0: keeping up
};

template <typename T>
class StreamFanout {
  public:
    StreamFanout(std::size_t capacity, std::uint64_t lag_close_ms)
        : ring_(capacity), lag_close_ms_(lag_close_ms) {}

    void set_lag_close_ms(std::uint64_t ms) { lag_close_ms_ = ms; }
    std::size_t capacity() const { return ring_.capacity(); }

    // A new reader gets the packets pushed after this call.
    StreamReader join() const { return StreamReader{RingPosition{ring_.head(), 0}, 0}; }
    // A reader that goes: what it lost still counts in drops().
    void leave(const StreamReader& reader) { drops_of_gone_ += lost(reader); }

    void push(T item) { ring_.push(std::move(item)); }

    // After a push, at `now_ms`: false when the reader has been behind the
    // whole ring for longer than lag_close_ms (cut it).
    bool keeps_up(StreamReader& reader, std::uint64_t now_ms) const {
        if (reader.position.next + ring_.capacity() < ring_.head()) {
            if (reader.lagging_since_ms == 0) reader.lagging_since_ms = now_ms;
            return now_ms - reader.lagging_since_ms <= lag_close_ms_;
        }
        reader.lagging_since_ms = 0;
        return true;
    }

    // The reader's next packet (skipping, and counting, what left the ring),
    // or nullptr when it has everything.
    const T* take(StreamReader& reader) const { return reader.position.take(ring_); }
    bool pending(const StreamReader& reader) const { return reader.position.pending(ring_); }
    // Packets this reader has lost so far.
    std::uint64_t lost(const StreamReader& reader) const { return reader.position.lost(ring_); }
    // Packets lost by readers gone; add lost() of those still here for the total.
    std::uint64_t drops_of_gone() const { return drops_of_gone_; }

  private:
    FanoutRing<T> ring_;
    std::uint64_t lag_close_ms_;
    std::uint64_t drops_of_gone_ = 0;
};

}  // namespace clubvoice
