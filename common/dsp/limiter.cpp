#include "dsp/limiter.hpp"

#include "dsp/level_meter.hpp"

#include <algorithm>
#include <cmath>

namespace clubvoice::dsp {

Limiter::Limiter(float ceiling_dbfs, float release_ms, int rate_hz)
    : ceiling_(static_cast<float>(db_to_gain(std::min(ceiling_dbfs, 0.0F)))),
      release_(static_cast<float>(
          std::exp(-1.0 / std::max(1.0, static_cast<double>(release_ms) * rate_hz / 1000.0)))) {}

void Limiter::process(std::span<float> samples) {
    for (float& s : samples) {
        if (!std::isfinite(s)) s = 0.0F;  // one bad sample must not mute the mix for good
        envelope_ = std::max(std::abs(s), envelope_ * release_);
        if (envelope_ > ceiling_) {
            // The envelope is >= |s|, so this stays within the ceiling; the
            // clamp only absorbs float rounding of the division.
            s = std::clamp(s * (ceiling_ / envelope_), -ceiling_, ceiling_);
        }
    }
    if (envelope_ < 1e-9F) envelope_ = 0.0F;  // no denormals in silence
}

float Limiter::gain_reduction_db() const {
    if (envelope_ <= ceiling_) return 0.0F;
    return static_cast<float>(20.0 * std::log10(static_cast<double>(envelope_) / ceiling_));
}

}  // namespace clubvoice::dsp
