// One client whose voice is played into the room: its jitter buffer (Opus
// decoding, FEC and concealment), its level, and the budget that keeps it to
// real time. Thread: loop.
#pragma once

#include "jitter_buffer.hpp"
#include "talker_id.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace clubvoice {

class Talker {
  public:
    Talker(TalkerId who, const JitterSettings& jitter, std::int64_t now_ns);

    enum class Arrival {
        queued,       // in the jitter buffer
        dropped,      // late, duplicate or too far ahead (the buffer counts it)
        over_budget,  // faster than real time: dropped
        flooding,     // far faster than real time for too long: close the client
    };
    // A checked Opus packet of `samples` (48 kHz); seq from the client or, without
    // one, counted here.
    Arrival arrive(std::optional<std::uint64_t> seq, std::string_view opus, int samples,
                   std::int64_t now_ns);

    // Adds out.size() samples of this talker's voice, times `gain`, to `mix`.
    // False when the talker gave nothing (prebuffering or idle).
    bool mix_into(std::span<float> mix, std::span<float> scratch, float gain,
                  float silence_threshold_db, std::int64_t now_ns);

    const TalkerId& who() const { return who_; }
    const JitterBuffer& jitter() const { return jitter_; }
    void apply(const JitterSettings& jitter) { jitter_.apply(jitter); }
    bool has_audio() const { return jitter_.playing() || jitter_.depth_ms() > 0; }
    float level_dbfs() const { return level_dbfs_; }  // smoothed RMS of what it plays
    std::int64_t last_voice_ns() const { return last_voice_ns_; }

    // Granted again (or still): takes packets, and the silence clock restarts.
    void regrant(std::int64_t now_ns) {
        releasing = false;
        last_voice_ns_ = now_ns;
    }

    // Set when the client let go or lost the floor: what it already sent
    // still plays out, nothing new is taken.
    bool releasing = false;

  private:
    TalkerId who_;
    JitterBuffer jitter_;
    std::uint64_t next_seq_ = 0;
    float level_dbfs_ = -120.0F;
    std::int64_t last_voice_ns_;  // when it last played above the silence threshold

    // Real-time budget: audio (ms) a client may send ahead of the clock.
    double budget_ms_;
    std::int64_t budget_at_ns_;
    std::uint64_t window_over_ = 0;  // over-budget packets in the current window
    std::int64_t window_start_ns_;
};

}  // namespace clubvoice
