// The music input: a second capture device (audio.music.device, e.g. mpv's
// output through a loopback) mixed into what listeners hear (x gain_db) and
// into the room's playback (x room_gain_db), each on its own consumer's
// clock through a ClockBridge that follows the music card's drift.
//
// The audio thread reads the device into two rings. The loop takes one out
// frame by frame as it encodes the room (mix_for_listeners); the talk
// mixer's thread takes the other as it fills the playback ring
// (add_to_room). The music ducking's envelope (set_envelope) scales both
// when the daemon ducks in the mixer (no mpv to turn down).
//
// Thread: loop, except add_to_room (the talk mixer's thread) and
// set_envelope (any). The room's bridge is guarded by a mutex the mixer
// thread only try-locks: a tick that finds it taken (the loop replacing the
// bridge for a device with a new rate, or reading figures) plays no music.
#pragma once

#include "audio_thread.hpp"
#include "clock_bridge.hpp"
#include "config.hpp"
#include "device_keeper.hpp"
#include "metrics.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace clubvoice {

class MusicInput {
  public:
    // Opens audio.music.device for `thread` (which must outlive this), in
    // the capture's channel layout; a device that fails is retried.
    MusicInput(uv_loop_t* loop, AudioThread& thread, const Config& config);
    ~MusicInput();
    MusicInput(const MusicInput&) = delete;
    MusicInput& operator=(const MusicInput&) = delete;

    // Loop: picks up the device's state; a device (re)opened at a new rate
    // gets new bridges.
    void poll();
    // Loop: the gains of a reloaded configuration.
    void apply(const Config& config);
    // Any thread: the ducking envelope as a linear factor (1: not ducked).
    void set_envelope(float gain) { envelope_.store(gain, std::memory_order_relaxed); }

    // Loop: adds the music to one room frame (interleaved, the capture's
    // channels) at `now_ns`, and measures its level.
    void mix_for_listeners(std::span<float> frame, std::int64_t now_ns);
    // Talk mixer's thread: adds the music (mono) to the playback mix; false
    // when there is no music to add.
    bool add_to_room(std::span<float> mono, std::int64_t now_ns) noexcept;

    bool up() const { return keeper_.up(); }
    const std::string& problem() const { return keeper_.problem(); }
    float level_dbfs() const { return level_dbfs_; }

    struct Figures {
        bool up = false;
        float level_dbfs = -120.0F;
        float envelope_db = 0.0F;
        std::uint64_t frames = 0, lost_frames = 0, xruns = 0;
        std::uint64_t reopens = 0, open_failures = 0, failures = 0;
        ClockBridge::Figures listeners, room;
    };
    Figures figures() const;
    // The figures under clubvoice_music_input_* (/status: "audio"."music").
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);
    nlohmann::json status_json() const;

  private:
    void rebuild(unsigned rate_hz);

    AudioThread& thread_;
    std::size_t channels_;
    double target_ms_;
    DeviceKeeper keeper_;
    std::string device_;
    float gain_ = 1.0F;
    std::atomic<float> room_gain_{1.0F};
    std::atomic<float> envelope_{1.0F};
    float level_dbfs_ = -120.0F;

    std::unique_ptr<ClockBridge> listeners_;  // loop only
    std::vector<float> listener_scratch_;

    mutable std::mutex room_mutex_;  // the mixer thread only try-locks it
    std::unique_ptr<ClockBridge> room_;
    std::vector<float> room_scratch_;
};

}  // namespace clubvoice
