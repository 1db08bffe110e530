// Test signals and a single-frequency detector for the audio tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace clubvoice::test {

inline std::vector<float> sine(double frequency_hz, double seconds, double amplitude = 0.5,
                               unsigned rate_hz = 48000, std::size_t channels = 1) {
    const auto frames = static_cast<std::size_t>(seconds * rate_hz);
    std::vector<float> out(frames * channels);
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        const auto v =
            static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * frequency_hz * t));
        for (std::size_t c = 0; c < channels; ++c) out[i * channels + c] = v;
    }
    return out;
}

// Amplitude of the `frequency_hz` component (Goertzel), for a sine of
// amplitude A this is ~A when the block holds many periods.
inline double tone_amplitude(std::span<const float> samples, double frequency_hz,
                             unsigned rate_hz = 48000) {
    const double w = 2.0 * std::numbers::pi * frequency_hz / rate_hz;
    const double coeff = 2.0 * std::cos(w);
    double s1 = 0.0;
    double s2 = 0.0;
    for (float x : samples) {
        const double s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return 2.0 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(samples.size());
}

inline double rms(std::span<const float> samples) {
    double sum = 0.0;
    for (float s : samples) sum += static_cast<double>(s) * s;
    return samples.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(samples.size()));
}

inline void write_s16(const std::string& path, std::span<const float> samples) {
    std::ofstream out(path, std::ios::binary);
    for (float s : samples) {
        const auto v = static_cast<std::int16_t>(std::lrint(s * 32767.0F));
        out.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
}

inline std::vector<float> read_s16(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<float> out;
    std::int16_t v = 0;
    while (in.read(reinterpret_cast<char*>(&v), sizeof v))
        out.push_back(static_cast<float>(v) / 32768.0F);
    return out;
}

}  // namespace clubvoice::test
