#include "dsp/limiter.hpp"
#include "dsp/level_meter.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace clubvoice::dsp {
namespace {

float peak(std::span<const float> v) {
    float p = 0.0F;
    for (float s : v) p = std::max(p, std::abs(s));
    return p;
}

std::vector<float> two_full_scale_tones(double seconds) {
    auto mix = test::sine(440, seconds, 1.0);
    const auto other = test::sine(554, seconds, 1.0);
    for (std::size_t i = 0; i < mix.size(); ++i) mix[i] += other[i];
    return mix;
}

TEST(Limiter, SummedFullScaleTonesNeverExceedTheCeiling) {
    Limiter limiter(-1.0F);
    auto mix = two_full_scale_tones(1.0);
    ASSERT_GT(peak(mix), 1.9F);
    for (std::size_t at = 0; at < mix.size(); at += 240) {  // in mixer-sized blocks
        limiter.process(
            std::span<float>(mix).subspan(at, std::min<std::size_t>(240, mix.size() - at)));
    }
    EXPECT_LE(peak(mix), static_cast<float>(db_to_gain(-1.0)));
    EXPECT_GT(limiter.gain_reduction_db(), 4.0F);
}

TEST(Limiter, LoudToneIsLoweredNotClipped) {
    Limiter limiter(-1.0F);
    auto tone = test::sine(440, 1.0, 2.0);
    limiter.process(tone);
    const auto settled = std::span<const float>(tone).subspan(24000);
    const double ceiling = db_to_gain(-1.0);
    EXPECT_NEAR(test::tone_amplitude(settled, 440), ceiling, 0.03);
    // Clipping a sine at half its amplitude would put ~0.2 into the third harmonic.
    EXPECT_LT(test::tone_amplitude(settled, 1320), 0.005);
}

TEST(Limiter, QuietSignalPassesUnchanged) {
    Limiter limiter(-1.0F);
    const auto in = test::sine(440, 0.5, 0.5);
    auto out = in;
    limiter.process(out);
    EXPECT_EQ(out, in);
    EXPECT_EQ(limiter.gain_reduction_db(), 0.0F);
}

TEST(Limiter, GainRecoversAfterTheRelease) {
    Limiter limiter(-1.0F, 80.0F);
    auto loud = test::sine(440, 0.2, 2.0);
    limiter.process(loud);
    EXPECT_GT(limiter.gain_reduction_db(), 5.0F);
    // 2.0 decays to the ceiling in 80 ms * ln(2 / 0.89) = 65 ms.
    const auto in = test::sine(440, 0.5, 0.3);
    auto out = in;
    limiter.process(out);
    EXPECT_EQ(limiter.gain_reduction_db(), 0.0F);
    const std::size_t after_release = 100 * 48;
    EXPECT_TRUE(std::equal(out.begin() + after_release, out.end(), in.begin() + after_release));
    EXPECT_LT(test::rms(std::span<const float>(out).first(480)),
              test::rms(std::span<const float>(in).first(480)));
}

TEST(Limiter, NonFiniteSamplesBecomeSilence) {
    Limiter limiter;
    std::vector<float> v{0.1F, std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN(), 0.2F};
    limiter.process(v);
    EXPECT_EQ(v, (std::vector<float>{0.1F, 0.0F, 0.0F, 0.2F}));
}

}  // namespace
}  // namespace clubvoice::dsp
