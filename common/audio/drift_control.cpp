#include "drift_control.hpp"

#include <algorithm>
#include <cmath>

namespace clubvoice {

DriftControl::DriftControl() : DriftControl(Settings{}) {}

DriftControl::DriftControl(Settings settings) : settings_(settings) {}

double DriftControl::update(double fill_s, double elapsed_s) noexcept {
    if (!(elapsed_s > 0.0) || !std::isfinite(fill_s)) return correction_;
    if (smoothed_ < 0.0) {
        smoothed_ = fill_s;
    } else {
        const double a = 1.0 - std::exp(-elapsed_s / settings_.smoothing_s);
        smoothed_ += a * (fill_s - smoothed_);
    }
    const double error = smoothed_ - settings_.target_s;
    const double limit = settings_.max_correction;
    // The integral alone never asks for more than the limit (no wind-up).
    integral_ =
        std::clamp(integral_ + error * elapsed_s, -limit / settings_.ki, limit / settings_.ki);
    correction_ = std::clamp(settings_.kp * error + settings_.ki * integral_, -limit, limit);
    return correction_;
}

}  // namespace clubvoice
