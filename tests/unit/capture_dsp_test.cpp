#include "dsp/capture_dsp.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

namespace clubvoice::dsp {
namespace {

constexpr CaptureDspSettings kAllOff{.gain_db = 0, .highpass_hz = 0, .gate = false};

TEST(CaptureDsp, AllStagesOffChangesNothing) {
    CaptureDsp dsp(48000, 2, kAllOff);
    std::vector<float> in = test::sine(50, 0.2, 0.3, 48000, 2);
    std::vector<float> out = in;
    dsp.process(out);
    EXPECT_EQ(out, in);
}

TEST(CaptureDsp, GainInDecibels) {
    CaptureDspSettings s = kAllOff;
    s.gain_db = 6.0206;
    CaptureDsp dsp(48000, 1, s);
    std::vector<float> v = test::sine(1000, 0.1, 0.2);
    dsp.process(v);
    EXPECT_NEAR(test::tone_amplitude(v, 1000), 0.4, 0.001);
}

TEST(CaptureDsp, HighPassOnEveryChannel) {
    CaptureDspSettings s = kAllOff;
    s.highpass_hz = 100;
    CaptureDsp dsp(48000, 2, s);
    std::vector<float> v = test::sine(50, 1.0, 0.5, 48000, 2);
    dsp.process(v);
    std::vector<float> right;
    for (std::size_t i = 48000; i < v.size(); i += 2) right.push_back(v[i + 1]);
    EXPECT_LT(test::tone_amplitude(right, 50), 0.5 * 0.3);
}

TEST(CaptureDsp, ReconfigureSwitchesStages) {
    CaptureDsp dsp(48000, 1, kAllOff);
    CaptureDspSettings s = kAllOff;
    s.gate = true;
    s.gate_threshold_db = -30;
    dsp.configure(s);
    std::vector<float> quiet = test::sine(1000, 0.5, 0.01);  // -40 dBFS
    dsp.process(quiet);
    EXPECT_LT(test::rms(std::span<const float>(quiet).last(4800)), 1e-6);
    dsp.configure(kAllOff);
    std::vector<float> again = test::sine(1000, 0.1, 0.01);
    dsp.process(again);
    EXPECT_NEAR(test::tone_amplitude(again, 1000), 0.01, 1e-4);
}

}  // namespace
}  // namespace clubvoice::dsp
