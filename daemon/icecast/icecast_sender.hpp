// The Icecast source's own thread: it connects to the mount, builds the Ogg
// Opus stream from the packets the loop hands it (a new logical stream, with
// its header pages, on every connection, as Icecast wants from a source that
// comes back), sends it, and when the server goes away or stops reading it
// drops the connection and tries again with back-off (1 s, doubling to 30 s).
// Nothing here can block the loop: the loop only queues packets (a bounded
// queue; a full one drops them, counted) and reads the figures. libshout runs
// non-blocking, so the thread also answers a stop at once, whatever the
// server does. The thread never logs: IcecastSource reads its state and says
// what changed. Thread: the public methods are for the loop.
#pragma once

#include "config.hpp"
#include "ogg_opus_pages.hpp"
#include "shout_connection.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace clubvoice {

class IcecastSender {
  public:
    IcecastSender(IcecastTarget target, OpusApplication application);
    ~IcecastSender();  // stops the thread, which closes the connection
    IcecastSender(const IcecastSender&) = delete;
    IcecastSender& operator=(const IcecastSender&) = delete;

    // One encoded Opus packet of `channels` channels. False, with nothing
    // queued, when the thread is that far behind.
    bool push(std::string_view opus, int channels);

    enum class State { connecting, up, down };
    struct Snapshot {
        State state = State::connecting;
        std::string problem;  // the latest failure, while down
        std::chrono::steady_clock::time_point retry_at{};
        std::uint64_t connects = 0, failures = 0, pages = 0, bytes = 0, bad_packets = 0;
        std::size_t server_queue = 0;  // bytes libshout holds for a slow server
    };
    Snapshot snapshot() const;
    // Grows at every change of state: the loop logs when it moved.
    std::uint64_t changes() const { return changes_.load(std::memory_order_acquire); }

  private:
    using Clock = std::chrono::steady_clock;
    struct Packet {
        std::string opus;
        int channels = 1;
    };

    void run();
    void step(std::deque<Packet>& batch, Clock::time_point now);
    void send(std::deque<Packet>& batch, Clock::time_point now);
    void fail(std::string problem, Clock::time_point now);
    void set_state(State state);

    const IcecastTarget target_;
    const OpusApplication application_;

    std::mutex queue_mutex_;  // guards queue_, quit_
    std::condition_variable wake_;
    std::deque<Packet> queue_;
    bool quit_ = false;

    // The thread's own.
    std::unique_ptr<ShoutConnection> connection_;
    std::unique_ptr<OggOpusPages> pages_;  // this connection's logical stream
    bool connected_ = false;
    Clock::time_point opening_since_{};
    std::chrono::seconds backoff_{1};

    mutable std::mutex figures_mutex_;  // guards figures_
    Snapshot figures_;
    std::atomic<std::uint64_t> changes_{0};

    std::thread thread_;  // last: started once everything above exists
};

}  // namespace clubvoice
