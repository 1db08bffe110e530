// A second-order IIR filter section (biquad) for one channel.
//
// Coefficients follow the well-known "Audio EQ Cookbook" forms; the state is
// kept in double precision because a 100 Hz high-pass at 48 kHz has poles
// close to the unit circle, where float state adds audible noise.
// Thread: whichever owns it (no shared state).
#pragma once

#include <span>

namespace clubvoice::dsp {

class Biquad {
  public:
    // A pass-through filter.
    Biquad() = default;
    // A 12 dB/octave high-pass with corner `cutoff_hz` (Butterworth when q = 1/sqrt(2)).
    static Biquad high_pass(double sample_rate_hz, double cutoff_hz, double q = 0.7071067811865476);

    float process(float x) {
        const double y = b0_ * x + z1_;
        z1_ = b1_ * x - a1_ * y + z2_;
        z2_ = b2_ * x - a2_ * y;
        return static_cast<float>(y);
    }
    // Filters every `stride`-th sample starting at data[0] (one channel of interleaved audio).
    void process(std::span<float> data, std::size_t stride = 1);
    void reset() { z1_ = z2_ = 0.0; }

    // The filter's gain (linear) for a steady sine of this frequency.
    double magnitude_at(double sample_rate_hz, double frequency_hz) const;

  private:
    double b0_ = 1.0, b1_ = 0.0, b2_ = 0.0, a1_ = 0.0, a2_ = 0.0;  // normalised: a0 = 1
    double z1_ = 0.0, z2_ = 0.0;
};

}  // namespace clubvoice::dsp
