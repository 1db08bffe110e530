#include "dsp/ducker.hpp"
#include "dsp/level_meter.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace clubvoice::dsp {
namespace {

// A constant 1.0 signal: what comes out is the gain itself, sample by sample.
std::vector<float> ones(std::size_t n) {
    return std::vector<float>(n, 1.0F);
}

float largest_step(std::span<const float> v) {
    float step = 0.0F;
    for (std::size_t i = 1; i < v.size(); ++i) step = std::max(step, std::abs(v[i] - v[i - 1]));
    return step;
}

TEST(Ducker, UntouchedWhileNotDucked) {
    Ducker ducker({});
    const auto in = test::sine(440, 0.2, 0.5);
    auto out = in;
    ducker.process(out);
    EXPECT_EQ(out, in);
    EXPECT_EQ(ducker.gain_db(), 0.0F);
}

TEST(Ducker, ReachesTheGainWithinTheAttack) {
    Ducker ducker({.gain_db = -12, .attack_ms = 20, .release_ms = 400});
    ducker.set_ducked(true);
    auto half = ones(480);  // 10 ms: half way, in dB
    ducker.process(half);
    EXPECT_NEAR(ducker.gain_db(), -6.0F, 0.05F);
    auto rest = ones(480);
    ducker.process(rest);
    EXPECT_FLOAT_EQ(ducker.gain_db(), -12.0F);
    EXPECT_NEAR(rest.back(), db_to_gain(-12.0), 1e-6);
    auto steady = test::sine(440, 0.1, 0.5);
    ducker.process(steady);
    EXPECT_NEAR(test::tone_amplitude(steady, 440), 0.5 * db_to_gain(-12.0), 1e-3);
}

TEST(Ducker, ReturnsWithinTheRelease) {
    Ducker ducker({.gain_db = -12, .attack_ms = 20, .release_ms = 400});
    ducker.set_ducked(true);
    auto v = ones(960);
    ducker.process(v);
    ducker.set_ducked(false);
    auto half = ones(200 * 48);
    ducker.process(half);
    EXPECT_NEAR(ducker.gain_db(), -6.0F, 0.05F);
    auto rest = ones(200 * 48);
    ducker.process(rest);
    EXPECT_EQ(ducker.gain_db(), 0.0F);
    EXPECT_EQ(rest.back(), 1.0F);
}

TEST(Ducker, GainNeverJumps) {
    Ducker ducker({.gain_db = -20, .attack_ms = 10, .release_ms = 100}, 48000);
    std::vector<float> all;
    for (int turn = 0; turn < 6; ++turn) {
        // Changes of mind at odd moments, mid-ramp included.
        ducker.set_ducked(turn % 2 == 0);
        auto block = ones(static_cast<std::size_t>(137 * (turn + 1)));
        ducker.process(block);
        all.insert(all.end(), block.begin(), block.end());
    }
    // -20 dB over 480 samples: each step is at most 0.042 dB, 0.5 % of the gain.
    EXPECT_LT(largest_step(all), 0.005F);
    EXPECT_LT(*std::min_element(all.begin(), all.end()), 0.5F);  // it did duck
}

TEST(Ducker, InterleavedChannelsShareTheGain) {
    Ducker ducker({.gain_db = -12, .attack_ms = 20, .release_ms = 400});
    ducker.set_ducked(true);
    auto stereo = ones(2 * 960);
    ducker.process(stereo, 2);
    for (std::size_t i = 0; i < stereo.size(); i += 2) ASSERT_EQ(stereo[i], stereo[i + 1]);
    EXPECT_FLOAT_EQ(ducker.gain_db(), -12.0F);  // 960 frames = 20 ms, not 960 samples
}

TEST(Ducker, ApplyMidRampContinuesSmoothly) {
    Ducker ducker({.gain_db = -12, .attack_ms = 20, .release_ms = 400});
    ducker.set_ducked(true);
    auto first = ones(480);
    ducker.process(first);
    ducker.apply({.gain_db = -24, .attack_ms = 20, .release_ms = 400});
    auto second = ones(480);  // 12 dB further at the new speed: -18 dB
    ducker.process(second);
    EXPECT_LT(std::abs(second.front() - first.back()), 0.005F);
    EXPECT_NEAR(ducker.gain_db(), -18.0F, 0.05F);
}

}  // namespace
}  // namespace clubvoice::dsp
