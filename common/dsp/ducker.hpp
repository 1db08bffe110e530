// Lowers a signal smoothly while it is ducked (the room sound sent to
// listeners while a browser talker is loud).
//
// The gain moves in dB along a straight line, one step per sample frame: down
// to gain_db within attack_ms, back to 0 dB within release_ms, so it never
// jumps (no clicks) and a change of direction mid-way continues from where it
// is. All channels of a frame share the gain. Thread: one owner.
#pragma once

#include <span>

namespace clubvoice::dsp {

class Ducker {
  public:
    struct Settings {
        float gain_db = -12.0F;  // while ducked; clamped to [-80, 0]
        float attack_ms = 20.0F;
        float release_ms = 400.0F;

        bool operator==(const Settings&) const = default;
    };

    explicit Ducker(Settings settings, int rate_hz = 48000);

    // New settings; a ramp under way continues towards the new target at the new speed.
    void apply(Settings settings);
    const Settings& settings() const { return settings_; }

    void set_ducked(bool ducked) { ducked_ = ducked; }

    // Processes interleaved audio with `channels` channels in place.
    void process(std::span<float> samples, int channels = 1);

    float gain_db() const { return static_cast<float>(gain_db_); }

  private:
    Settings settings_;
    int rate_hz_;
    double attack_step_db_ = 0.0;  // per sample frame
    double release_step_db_ = 0.0;
    bool ducked_ = false;
    double gain_db_ = 0.0;
};

}  // namespace clubvoice::dsp
