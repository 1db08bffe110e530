#include "dsp/ducker.hpp"

#include "dsp/level_meter.hpp"

#include <algorithm>

namespace clubvoice::dsp {
namespace {

constexpr double kLandDb = 1e-6;

// dB per sample frame to cover `span_db` in `ms`; at least one frame.
double step_db(double span_db, double ms, int rate_hz) {
    return span_db / std::max(1.0, ms * rate_hz / 1000.0);
}

}  // namespace

Ducker::Ducker(Settings settings, int rate_hz) : rate_hz_(rate_hz) {
    apply(settings);
}

void Ducker::apply(Settings settings) {
    settings.gain_db = std::clamp(settings.gain_db, -80.0F, 0.0F);
    settings_ = settings;
    // The speed is set by the full depth, so a partial ramp (a change of mind
    // half-way, or a reload) moves at the same rate. A 0 dB depth still needs
    // a speed to return from an earlier, deeper setting.
    const double span = std::max(1.0, -static_cast<double>(settings.gain_db));
    attack_step_db_ = step_db(span, settings.attack_ms, rate_hz_);
    release_step_db_ = step_db(span, settings.release_ms, rate_hz_);
}

void Ducker::process(std::span<float> samples, int channels) {
    const auto stride = static_cast<std::size_t>(std::max(channels, 1));
    const double target = ducked_ ? settings_.gain_db : 0.0;
    if (gain_db_ == target) {
        if (target == 0.0) return;  // not ducked: untouched
        const auto gain = static_cast<float>(db_to_gain(target));
        for (float& s : samples) s *= gain;
        return;
    }
    for (std::size_t i = 0; i + stride <= samples.size(); i += stride) {
        // The last step lands on the target exactly, whatever the rounding on the way.
        if (gain_db_ > target) {
            gain_db_ -= attack_step_db_;
            if (gain_db_ < target + kLandDb) gain_db_ = target;
        } else if (gain_db_ < target) {
            gain_db_ += release_step_db_;
            if (gain_db_ > target - kLandDb) gain_db_ = target;
        }
        const auto gain = static_cast<float>(db_to_gain(gain_db_));
        for (std::size_t c = 0; c < stride; ++c) samples[i + c] *= gain;
    }
}

}  // namespace clubvoice::dsp
