#include "dsp/biquad.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

namespace clubvoice::dsp {
namespace {

// The steady-state amplitude after the filter, skipping its settling time.
double filtered_amplitude(double frequency_hz, double cutoff_hz) {
    Biquad filter = Biquad::high_pass(48000, cutoff_hz);
    std::vector<float> signal = test::sine(frequency_hz, 2.0, 0.5);
    filter.process(signal);
    return test::tone_amplitude(std::span<const float>(signal).subspan(48000), frequency_hz);
}

TEST(Biquad, HighPassAttenuates50HzAndPasses1kHz) {
    const double hum = filtered_amplitude(50, 100);
    const double voice = filtered_amplitude(1000, 100);
    // Second order: 50 Hz is an octave under the corner, about -12 dB.
    EXPECT_LT(20 * std::log10(hum / 0.5), -10.0);
    EXPECT_NEAR(voice, 0.5, 0.5 * 0.02);
    // At the corner a Butterworth section is 3 dB down.
    EXPECT_NEAR(20 * std::log10(filtered_amplitude(100, 100) / 0.5), -3.0, 0.3);
}

TEST(Biquad, MagnitudeMatchesWhatItDoes) {
    const Biquad filter = Biquad::high_pass(48000, 100);
    for (double f : {30.0, 50.0, 100.0, 200.0, 1000.0}) {
        EXPECT_NEAR(filter.magnitude_at(48000, f), filtered_amplitude(f, 100) / 0.5, 0.01) << f;
    }
}

TEST(Biquad, StrideFiltersOneChannelOfInterleavedAudio) {
    std::vector<float> stereo = test::sine(50, 1.0, 0.5, 48000, 2);
    Biquad left = Biquad::high_pass(48000, 100);
    left.process(stereo, 2);
    std::vector<float> l, r;
    for (std::size_t i = 24000 * 2; i < stereo.size(); i += 2) {
        l.push_back(stereo[i]);
        r.push_back(stereo[i + 1]);
    }
    EXPECT_LT(test::tone_amplitude(l, 50), 0.5 * 0.3);
    EXPECT_NEAR(test::tone_amplitude(r, 50), 0.5, 0.01);  // untouched
}

TEST(Biquad, DefaultIsPassThrough) {
    Biquad filter;
    EXPECT_FLOAT_EQ(filter.process(0.25F), 0.25F);
    EXPECT_FLOAT_EQ(filter.process(-0.5F), -0.5F);
}

}  // namespace
}  // namespace clubvoice::dsp
