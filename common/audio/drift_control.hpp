// How much faster or slower a resampler should consume a second clock's
// sound so that the ring between the two stays at its target fill.
//
// A PI controller on the ring's smoothed fill, in seconds of sound: the
// proportional part answers a change within seconds, the integral part
// learns the clocks' steady difference, so the fill settles back on its
// target instead of sitting off it by drift / gain. Gains are slow on
// purpose (a time constant of about five seconds): a crystal's drift is
// constant, and a correction that moves slowly is a pitch nobody hears move.
// The fill is smoothed over half a second first, because it saws by a
// device period and a consumer's chunk every few ms. Thread: one owner.
#pragma once

#include <cstddef>

namespace clubvoice {

class DriftControl {
  public:
    struct Settings {
        double target_s = 0.06;    // the fill to keep
        double smoothing_s = 0.5;  // the fill's moving-average time constant
        double kp = 0.5;           // correction per second of fill error
        double ki = 0.05;          // correction per second of fill error, per second
        double max_correction = 0.01;
    };

    explicit DriftControl(Settings settings);
    DriftControl();

    // `fill_s` measured `elapsed_s` after the previous update; returns the
    // correction to apply (> 0: consume faster).
    double update(double fill_s, double elapsed_s) noexcept;
    // The fill jumped (the ring ran dry, or old sound was dropped): forget
    // the smoothed fill, keep the drift learnt so far.
    void restart() noexcept { smoothed_ = -1.0; }

    double correction() const { return correction_; }
    double smoothed_fill_s() const { return smoothed_; }
    const Settings& settings() const { return settings_; }

  private:
    Settings settings_;
    double smoothed_ = -1.0;  // < 0: no measurement yet
    double integral_ = 0.0;   // of the fill error, in s * s
    double correction_ = 0.0;
};

}  // namespace clubvoice
