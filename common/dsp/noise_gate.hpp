// A noise gate: mutes the signal while it stays below a threshold.
//
// A peak envelope (instant attack, ~20 ms decay) is compared with the
// threshold; above it the gate opens within `attack_ms`; once the envelope has
// stayed 3 dB under the threshold for `hold_ms` the gate closes over
// `release_ms`. All channels of a frame share one gain, so the stereo image
// does not wander. Thread: whichever owns it.
#pragma once

#include <span>

namespace clubvoice::dsp {

class NoiseGate {
  public:
    struct Timing {
        double attack_ms = 1.0;
        double hold_ms = 150.0;
        double release_ms = 100.0;
    };

    NoiseGate(double sample_rate_hz, double threshold_db)
        : NoiseGate(sample_rate_hz, threshold_db, Timing{}) {}
    NoiseGate(double sample_rate_hz, double threshold_db, Timing timing);

    void set_threshold_db(double threshold_db);
    // Processes interleaved audio with `channels` channels in place.
    void process(std::span<float> interleaved, std::size_t channels);

    bool open() const { return hold_left_ > 0; }
    double gain() const { return gain_; }

  private:
    double threshold_ = 0.0;    // linear
    double close_below_ = 0.0;  // linear, threshold minus the hysteresis
    double envelope_decay_ = 0.0;
    double attack_step_ = 0.0;  // per-sample coefficients of the one-pole gain smoother
    double release_step_ = 0.0;
    long hold_samples_ = 0;

    double envelope_ = 0.0;
    double gain_ = 0.0;  // starts closed: the first sound opens it within attack_ms
    long hold_left_ = 0;
};

}  // namespace clubvoice::dsp
