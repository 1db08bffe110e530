#include "dsp/noise_gate.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

namespace clubvoice::dsp {
namespace {

std::span<const float> last_100ms(const std::vector<float>& v) {
    return std::span<const float>(v).last(4800);
}

TEST(NoiseGate, MutesNoiseUnderTheThreshold) {
    NoiseGate gate(48000, -40.0);
    std::vector<float> hiss = test::sine(3000, 1.0, 0.003);  // about -50 dBFS peak
    gate.process(hiss, 1);
    EXPECT_FALSE(gate.open());
    EXPECT_LT(test::rms(last_100ms(hiss)), 1e-6);
}

TEST(NoiseGate, PassesSoundOverTheThreshold) {
    NoiseGate gate(48000, -40.0);
    std::vector<float> voice = test::sine(440, 1.0, 0.1);  // -20 dBFS peak
    gate.process(voice, 1);
    EXPECT_TRUE(gate.open());
    EXPECT_NEAR(test::tone_amplitude(last_100ms(voice), 440), 0.1, 0.001);
}

TEST(NoiseGate, HoldsThenReleasesAfterTheSoundStops) {
    NoiseGate gate(48000, -40.0, {.attack_ms = 1, .hold_ms = 100, .release_ms = 20});
    std::vector<float> voice = test::sine(440, 0.5, 0.1);
    gate.process(voice, 1);
    std::vector<float> quiet = test::sine(440, 0.05, 0.001);  // -60 dBFS, 50 ms: still held
    gate.process(quiet, 1);
    EXPECT_TRUE(gate.open());
    EXPECT_GT(gate.gain(), 0.99);
    std::vector<float> more_quiet = test::sine(440, 0.4, 0.001);  // hold ends, release closes it
    gate.process(more_quiet, 1);
    EXPECT_FALSE(gate.open());
    EXPECT_LT(gate.gain(), 1e-3);
}

TEST(NoiseGate, StereoChannelsShareOneGain) {
    NoiseGate gate(48000, -40.0);
    std::vector<float> stereo = test::sine(440, 0.5, 0.1, 48000, 2);
    for (std::size_t i = 1; i < stereo.size(); i += 2) stereo[i] = 0.002F;  // quiet right channel
    gate.process(stereo, 2);
    EXPECT_TRUE(gate.open());
    EXPECT_NEAR(stereo.back(), 0.002F, 1e-5);  // the loud left channel keeps it open
}

}  // namespace
}  // namespace clubvoice::dsp
