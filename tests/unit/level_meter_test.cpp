#include "dsp/level_meter.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clubvoice::dsp {
namespace {

TEST(LevelMeter, FullScaleSquareIsZeroDbfs) {
    std::vector<float> square(480);
    for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 24) % 2 == 0 ? 1.0F : -1.0F;
    EXPECT_NEAR(rms_dbfs(square), 0.0, 1e-4);
    EXPECT_NEAR(peak_dbfs(square), 0.0, 1e-4);
}

TEST(LevelMeter, SineLevels) {
    // A sine's RMS is its amplitude / sqrt(2): -3.01 dB under its peak.
    EXPECT_NEAR(rms_dbfs(test::sine(1000, 0.1, 1.0)), -3.01, 0.01);
    EXPECT_NEAR(rms_dbfs(test::sine(1000, 0.1, 0.1)), -23.01, 0.01);
    EXPECT_NEAR(peak_dbfs(test::sine(1000, 0.1, 0.1)), -20.0, 0.01);
}

TEST(LevelMeter, SilenceHasAFloor) {
    EXPECT_EQ(rms_dbfs(std::vector<float>(960, 0.0F)), kSilenceDbfs);
    EXPECT_EQ(rms_dbfs({}), kSilenceDbfs);
    EXPECT_EQ(amplitude_to_dbfs(1e-9), kSilenceDbfs);
}

TEST(LevelMeter, DecibelsAndGain) {
    EXPECT_NEAR(db_to_gain(20.0), 10.0, 1e-9);
    EXPECT_NEAR(db_to_gain(-6.0206), 0.5, 1e-4);
    EXPECT_NEAR(amplitude_to_dbfs(0.5), -6.0206, 1e-3);
}

}  // namespace
}  // namespace clubvoice::dsp
