// Sound from a device on another clock, taken out at our rate: a ring the
// audio thread fills at the device's pace, resampled to exactly as many
// frames as each consumer asks for, with the drift between the two clocks
// corrected by nudging the resampler (DriftControl on the ring's fill).
//
// The fill is read as the sound the device has captured and we have not
// used: what waits in the ring, plus what the device has gathered since the
// audio thread last pushed (the time since then, at the device's rate). The
// bare ring level saws by a device period, and sampled at the consumer's own
// period that saw aliases into a slow wave the controller would follow as
// pitch wobble; counted this way the fill moves only with the clocks.
//
// Starting, and after the ring ran dry, it waits until the ring holds its
// target before it plays, so it does not stutter a frame at a time. When the
// ring holds far more than its target (the consumer was away: the room's
// capture was down, the loop stalled), what is too old is dropped at once
// rather than played late; both events are counted. After construction
// pull() allocates nothing, so a real-time thread may call it.
//
// Thread: the ring's consumer thread (one owner).
#pragma once

#include "adaptive_resampler.hpp"
#include "drift_control.hpp"
#include "spsc_ring.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace clubvoice {

class ClockBridge {
  public:
    struct Figures {
        double correction = 0.0;          // the resampler's, e.g. 0.0001 = consuming 100 ppm faster
        double fill_ms = 0.0;             // smoothed fill of the ring and the staged input
        std::uint64_t frames = 0;         // frames given out with sound
        std::uint64_t silent_frames = 0;  // frames given out as silence (waiting or dry)
        std::uint64_t underruns = 0;      // times the ring ran dry while playing
        std::uint64_t dropped_frames = 0;  // input frames dropped as too old
    };

    // `ring` holds interleaved frames of `channels` at `in_rate_hz`, and the
    // producer stores the CLOCK_MONOTONIC time of its last push in
    // `pushed_at_ns` after each push; both must outlive the bridge.
    // `target_ms` is the fill to keep: enough for the device's period plus
    // the consumer's chunk and its lateness.
    ClockBridge(SpscRing<float>& ring, const std::atomic<std::int64_t>& pushed_at_ns,
                std::size_t channels, unsigned in_rate_hz, unsigned out_rate_hz, double target_ms);

    // Fills `out` (interleaved, a whole number of frames) entirely for the
    // CLOCK_MONOTONIC moment `now_ns` (which may be past: the moment the
    // consumer's own clock stands for); returns the frames that carry sound
    // (the rest is silence).
    std::size_t pull(std::span<float> out, std::int64_t now_ns) noexcept;

    unsigned in_rate_hz() const { return resampler_.in_rate_hz(); }
    std::size_t channels() const { return channels_; }
    const Figures& figures() const { return figures_; }

  private:
    std::size_t input_frames() const noexcept;
    double fill_s(std::int64_t now_ns) const noexcept;
    bool stage() noexcept;

    SpscRing<float>& ring_;
    const std::atomic<std::int64_t>& pushed_at_ns_;
    std::size_t channels_;
    double in_rate_;
    double out_rate_;
    double target_s_;
    AdaptiveResampler resampler_;
    DriftControl control_;
    std::vector<float> staging_;
    std::size_t staged_at_ = 0;  // first staged frame not yet consumed
    std::size_t staged_ = 0;     // staged frames not yet consumed
    bool playing_ = false;
    double since_retune_s_ = 0.0;
    Figures figures_;
};

}  // namespace clubvoice
