#include "dsp/biquad.hpp"

#include <cmath>
#include <complex>
#include <numbers>

namespace clubvoice::dsp {

Biquad Biquad::high_pass(double sample_rate_hz, double cutoff_hz, double q) {
    const double w0 = 2.0 * std::numbers::pi * cutoff_hz / sample_rate_hz;
    const double cos_w0 = std::cos(w0);
    const double alpha = std::sin(w0) / (2.0 * q);
    const double a0 = 1.0 + alpha;
    Biquad f;
    f.b0_ = (1.0 + cos_w0) / 2.0 / a0;
    f.b1_ = -(1.0 + cos_w0) / a0;
    f.b2_ = f.b0_;
    f.a1_ = -2.0 * cos_w0 / a0;
    f.a2_ = (1.0 - alpha) / a0;
    return f;
}

void Biquad::process(std::span<float> data, std::size_t stride) {
    for (std::size_t i = 0; i < data.size(); i += stride) data[i] = process(data[i]);
    // Silence decays the state into denormals, which are very slow on x86.
    if (std::abs(z1_) < 1e-30) z1_ = 0.0;
    if (std::abs(z2_) < 1e-30) z2_ = 0.0;
}

double Biquad::magnitude_at(double sample_rate_hz, double frequency_hz) const {
    const std::complex<double> z1 =
        std::polar(1.0, -2.0 * std::numbers::pi * frequency_hz / sample_rate_hz);  // z^-1
    const std::complex<double> z2 = z1 * z1;
    return std::abs((b0_ + b1_ * z1 + b2_ * z2) / (1.0 + a1_ * z1 + a2_ * z2));
}

}  // namespace clubvoice::dsp
