#include "dsp/noise_gate.hpp"

#include "dsp/level_meter.hpp"

#include <algorithm>
#include <cmath>

namespace clubvoice::dsp {
namespace {

constexpr double kHysteresisDb = 3.0;
constexpr double kEnvelopeDecayMs = 20.0;

// Per-sample coefficient of a one-pole smoother that covers ~63 % of a step in `ms`.
double one_pole(double sample_rate_hz, double ms) {
    return 1.0 - std::exp(-1.0 / std::max(1.0, ms * sample_rate_hz / 1000.0));
}

}  // namespace

NoiseGate::NoiseGate(double sample_rate_hz, double threshold_db, Timing timing)
    : envelope_decay_(1.0 - one_pole(sample_rate_hz, kEnvelopeDecayMs)),
      attack_step_(one_pole(sample_rate_hz, timing.attack_ms)),
      release_step_(one_pole(sample_rate_hz, timing.release_ms)),
      hold_samples_(std::lround(timing.hold_ms * sample_rate_hz / 1000.0)) {
    set_threshold_db(threshold_db);
}

void NoiseGate::set_threshold_db(double threshold_db) {
    threshold_ = db_to_gain(threshold_db);
    close_below_ = db_to_gain(threshold_db - kHysteresisDb);
}

void NoiseGate::process(std::span<float> interleaved, std::size_t channels) {
    for (std::size_t i = 0; i + channels <= interleaved.size(); i += channels) {
        double peak = 0.0;
        for (std::size_t c = 0; c < channels; ++c) {
            peak = std::max(peak, static_cast<double>(std::abs(interleaved[i + c])));
        }
        envelope_ = std::max(peak, envelope_ * envelope_decay_);
        if (envelope_ >= threshold_) {
            hold_left_ = hold_samples_ + 1;
        } else if (envelope_ < close_below_ && hold_left_ > 0) {
            --hold_left_;
        }
        const double target = hold_left_ > 0 ? 1.0 : 0.0;
        gain_ += (target - gain_) * (target > gain_ ? attack_step_ : release_step_);
        for (std::size_t c = 0; c < channels; ++c) {
            interleaved[i + c] = static_cast<float>(interleaved[i + c] * gain_);
        }
    }
    if (gain_ < 1e-9) gain_ = 0.0;  // no denormals while closed
}

}  // namespace clubvoice::dsp
