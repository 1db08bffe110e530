// The talkers' mixer: sums every talker's voice, and the room's share of
// the music input, into the playback ring at the playback device's pace, on
// a thread of its own.
//
// Why a thread: the loop also fans every captured frame out to every
// listener, a burst of work that grows with the audience. A mixer on a loop
// timer ran the playback ring (two periods deep) dry whenever a burst took
// longer than that margin, and talkers broke up as listeners joined. Here the
// loop only files packets into the talkers' jitter buffers; decoding, mixing
// and limiting happen on the mixer thread (SCHED_FIFO just below the audio
// thread when the system allows), whatever the loop is doing.
//
// One mutex guards the talkers, the settings and the output. The loop takes
// it (briefly: a packet, a talk request, a status read). The mixer thread
// only ever try-locks it, so it never waits: when the loop holds it, the tick
// is skipped (counted) and the next one, a few ms later, catches up within
// the ring's margin. Inside its loop the mixer thread never allocates, logs or
// throws; it wakes the loop (uv_async_send) only when the room's ducking
// should change.
//
// Thread: the public methods are for the loop; tick() runs on the mixer thread.
#pragma once

#include "dsp/limiter.hpp"
#include "loop_thread.hpp"
#include "playback_out.hpp"
#include "realtime.hpp"
#include "talker.hpp"
#include "uv_handles.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace clubvoice {

class TalkMixer {
  public:
    struct Settings {
        int period_ms = 10;  // the playback device's period (audio.period_ms)
        float gain = 1.0F;   // talk.gain_db as a factor
        float silence_threshold_db = -50.0F;
        bool duck_room = false;  // ducking.room.enabled
        float duck_threshold_db = -40.0F;
    };
    using Talkers = std::map<std::string, std::unique_ptr<Talker>>;  // by socket id

    // `on_loud` runs on the loop when the room's ducking should change.
    TalkMixer(uv_loop_t* loop, PlaybackOut out, std::function<void(bool loud)> on_loud);
    ~TalkMixer();
    TalkMixer(const TalkMixer&) = delete;
    TalkMixer& operator=(const TalkMixer&) = delete;

    // Starts the mixer thread; priority 1..99 asks for SCHED_FIFO.
    void start(int priority);
    // Joins the thread and closes its wake-up handle (the loop can then end).
    void stop();
    const RealtimeThread& thread() const { return thread_; }

    // The lock guarding everything below. Hold it to touch the talkers, and
    // while whatever `PlaybackOut` reaches is being replaced.
    std::unique_lock<std::mutex> lock() const {
        assert_on_loop();  // the mixer thread only try-locks: it must never wait
        return std::unique_lock<std::mutex>(mutex_);
    }
    Talkers& talkers() { return talkers_; }
    const Talkers& talkers() const { return talkers_; }
    void set(const Settings& settings) { settings_ = settings; }

    // Figures (under lock()).
    struct Figures {
        std::uint64_t ticks = 0;
        std::uint64_t busy_skips = 0;  // ticks skipped because the loop held the lock
        std::uint64_t late_ticks = 0;  // woken more than a tick late (schedule restarted)
        std::uint64_t ring_drops = 0;  // mixed samples the playback ring refused
        std::int64_t longest_tick_ns = 0;
        double mic_to_ring_last_ms = -1.0, mic_to_ring_avg_ms = -1.0, mic_to_ring_max_ms = -1.0;
        float limiter_reduction_db = 0.0F;
    };
    Figures figures() const;
    bool loud() const { return loud_.load(std::memory_order_relaxed); }

    // One mixing step at `now_ns` (the thread's body; also for tests).
    void tick(std::int64_t now_ns) noexcept;

  private:
    void run() noexcept;
    void mix(std::int64_t now_ns) noexcept;

    uv_loop_t* loop_;
    PlaybackOut out_;
    std::function<void(bool)> on_loud_;
    UvAsync loud_changed_;
    RealtimeThread thread_;
    std::atomic<bool> stop_{false};

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    Talkers talkers_;
    Settings settings_;
    dsp::Limiter limiter_;
    std::vector<float> mix_;
    std::vector<float> scratch_;
    std::int64_t last_mix_ns_ = 0;
    bool active_ = false;
    Figures figures_;
    // Written by the mixer thread; busy skips happen without the lock.
    std::atomic<std::uint64_t> busy_skips_{0};
    std::atomic<std::uint64_t> late_ticks_{0};
    std::atomic<bool> loud_{false};
};

}  // namespace clubvoice
