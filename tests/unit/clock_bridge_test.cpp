#include "clock_bridge.hpp"
#include "adaptive_resampler.hpp"
#include "drift_control.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>
#include <vector>

namespace clubvoice {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

std::int64_t ns(double seconds) {
    return static_cast<std::int64_t>(seconds * 1e9);
}

// A sine made sample by sample in the device's own time, continuous across pushes.
class Oscillator {
  public:
    Oscillator(double hz, double rate, double amplitude)
        : step_(kTwoPi * hz / rate), amplitude_(amplitude) {}
    float next() {
        const auto v = static_cast<float>(amplitude_ * std::sin(phase_));
        phase_ = std::fmod(phase_ + step_, kTwoPi);
        return v;
    }

  private:
    double phase_ = 0.0;
    double step_;
    double amplitude_;
};

// The frequency with the most energy among `candidates` (Goertzel).
double power_at(const std::vector<float>& x, double hz, double rate) {
    const double w = kTwoPi * hz / rate;
    double s1 = 0.0;
    double s2 = 0.0;
    for (float v : x) {
        const double s0 = v + 2.0 * std::cos(w) * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - 2.0 * std::cos(w) * s1 * s2;
}

TEST(AdaptiveResampler, ConvertsTheRateAndKeepsTheTone) {
    AdaptiveResampler r(1, 44100, 48000);
    Oscillator osc(1000.0, 44100.0, 0.5);
    std::vector<float> in(44100);
    for (float& v : in) v = osc.next();
    std::vector<float> out(48000 + 100);
    const auto got = r.process(in, out);
    EXPECT_EQ(got.consumed, 44100U);
    EXPECT_NEAR(static_cast<double>(got.produced), 48000.0, 100.0);
    out.resize(got.produced);
    EXPECT_GT(power_at(out, 1000.0, 48000.0), 100.0 * power_at(out, 918.75, 48000.0));
}

TEST(AdaptiveResampler, CorrectionIsClampedAndChangesTheRatio) {
    AdaptiveResampler r(2, 48000, 48000);
    EXPECT_DOUBLE_EQ(r.ratio(), 1.0);
    r.set_correction(0.5);
    EXPECT_DOUBLE_EQ(r.correction(), AdaptiveResampler::kMaxCorrection);
    EXPECT_NEAR(r.ratio(), 1.01, 1e-4);
    r.set_correction(-0.002);
    EXPECT_NEAR(r.ratio(), 0.998, 1e-4);
}

TEST(AdaptiveResampler, RefusesRatesItCannotStepSafely) {
    EXPECT_THROW(AdaptiveResampler(1, 96000, 48000), std::runtime_error);
    EXPECT_THROW(AdaptiveResampler(0, 48000, 48000), std::runtime_error);
}

TEST(DriftControl, LearnsASteadyDriftAndReturnsToTheTarget) {
    DriftControl c;
    // A ring whose producer runs 0.3 % fast: the fill moves by drift - correction.
    double fill = c.settings().target_s;
    for (int i = 0; i < 50 * 600; ++i) {  // ten minutes in steps of 20 ms
        fill += 0.02 * (0.003 - c.correction());
        c.update(fill, 0.02);
    }
    EXPECT_NEAR(c.correction(), 0.003, 0.0002);
    EXPECT_NEAR(fill, c.settings().target_s, 0.002);
}

struct DriftRun {
    double min_fill_s = 1e9, max_fill_s = 0.0;
    double worst_second_difference = 0.0;
    double correction_at_half = 0.0, correction_at_end = 0.0;
};

// A music card whose clock runs `first` fast for half of `seconds`, then
// `second`, pushing 10 ms periods; the consumer takes 20 ms frames at 48 kHz.
DriftRun run_drift(ClockBridge& bridge, SpscRing<float>& ring, std::atomic<std::int64_t>& pushed_at,
                   double seconds, double first, double second) {
    constexpr std::size_t kPeriod = 480;
    constexpr std::size_t kFrame = 960;
    Oscillator osc(220.0, 48000.0, 0.5);
    std::vector<float> period(kPeriod);
    std::vector<float> frame(kFrame);
    DriftRun run;
    double next_period_due = 0.0;
    float y1 = 0.0F;
    float y2 = 0.0F;
    const auto pulls = static_cast<long>(seconds * 50.0);
    for (long j = 0; j < pulls; ++j) {
        const double now = static_cast<double>(j) * 0.02;
        const double drift = j < pulls / 2 ? first : second;
        while (next_period_due <= now) {
            for (float& v : period) v = osc.next();
            EXPECT_TRUE(ring.push_all(period));
            pushed_at.store(ns(next_period_due));
            next_period_due += static_cast<double>(kPeriod) / (48000.0 * (1.0 + drift));
        }
        const double fill = static_cast<double>(ring.read_available()) / 48000.0;
        bridge.pull(frame, ns(now));
        if (now > 1.0) {
            run.min_fill_s = std::min(run.min_fill_s, fill);
            run.max_fill_s = std::max(run.max_fill_s, fill);
            for (float y : frame) {
                run.worst_second_difference =
                    std::max(run.worst_second_difference, std::abs(double{y} - 2.0 * y1 + y2));
                y2 = y1;
                y1 = y;
            }
        } else {
            y2 = frame[kFrame - 2];
            y1 = frame[kFrame - 1];
        }
        if (j == pulls / 2 - 1) run.correction_at_half = bridge.figures().correction;
    }
    run.correction_at_end = bridge.figures().correction;
    return run;
}

// An hour of music 0.5 % fast, then 0.5 % slow: the ring neither runs dry
// nor overflows, and the sound never jumps. A 220 Hz sine at 0.5 has a
// second difference of at most 0.5 * (2 pi 220 / 48000)^2 = 4.1e-4; a
// dropped or repeated sample makes one of about 0.5 * 2 pi 220 / 48000 =
// 1.4e-2. The threshold, 1e-3, sits between the two.
TEST(ClockBridge, AnHourOfDriftEitherWayStaysInBoundsWithoutAClick) {
    SpscRing<float> ring(65536);
    std::atomic<std::int64_t> pushed_at{0};
    ClockBridge bridge(ring, pushed_at, 1, 48000, 48000, 60.0);
    const DriftRun run = run_drift(bridge, ring, pushed_at, 3600.0, 0.005, -0.005);
    EXPECT_EQ(bridge.figures().underruns, 0U);
    EXPECT_EQ(bridge.figures().dropped_frames, 0U);
    EXPECT_GT(run.min_fill_s, 0.015);
    EXPECT_LT(run.max_fill_s, 0.150);
    EXPECT_LT(run.worst_second_difference, 1e-3);
    EXPECT_NEAR(run.correction_at_half, 0.005, 0.0002);
    EXPECT_NEAR(run.correction_at_end, -0.005, 0.0002);
    RecordProperty("min_fill_ms", static_cast<int>(run.min_fill_s * 1000));
    RecordProperty("max_fill_ms", static_cast<int>(run.max_fill_s * 1000));
}

TEST(ClockBridge, WaitsForItsTargetAndTheFirstPullThenPlays) {
    SpscRing<float> ring(8192);
    std::atomic<std::int64_t> pushed_at{0};
    ClockBridge bridge(ring, pushed_at, 2, 48000, 48000, 40.0);
    std::vector<float> frame(960 * 2, 1.0F);
    std::vector<float> some(480 * 2, 0.25F);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.push_all(some));  // 50 ms: not 40 + 20
    EXPECT_EQ(bridge.pull(frame, 0), 0U);
    EXPECT_TRUE(std::all_of(frame.begin(), frame.end(), [](float v) { return v == 0.0F; }));
    ASSERT_TRUE(ring.push_all(some));  // 60 ms
    EXPECT_EQ(bridge.pull(frame, 0), 960U);
    EXPECT_EQ(bridge.figures().silent_frames, 960U);
}

TEST(ClockBridge, RunningDryIsCountedAndWaitsAgain) {
    SpscRing<float> ring(8192);
    std::atomic<std::int64_t> pushed_at{0};
    ClockBridge bridge(ring, pushed_at, 1, 48000, 48000, 20.0);
    std::vector<float> input(1920, 0.25F);
    std::vector<float> frame(960);
    ASSERT_TRUE(ring.push_all(input));
    EXPECT_EQ(bridge.pull(frame, 0), 960U);
    EXPECT_GT(bridge.pull(frame, 0), 900U);  // the rest, less what the filter holds
    EXPECT_EQ(bridge.figures().underruns, 1U);
    EXPECT_EQ(bridge.pull(frame, 0), 0U);  // waiting for 20 + 20 ms again
    EXPECT_EQ(bridge.figures().underruns, 1U);
}

TEST(ClockBridge, SoundLeftWaitingTooLongIsDroppedNotPlayedLate) {
    SpscRing<float> ring(65536);
    std::atomic<std::int64_t> pushed_at{0};
    ClockBridge bridge(ring, pushed_at, 1, 48000, 48000, 20.0);
    std::vector<float> second(48000, 0.25F);
    ASSERT_TRUE(ring.push_all(second));  // a second queued while nobody pulled
    std::vector<float> frame(960);
    bridge.pull(frame, 0);
    EXPECT_EQ(bridge.figures().dropped_frames, 48000U - 960U);
    EXPECT_LE(ring.read_available(), 960U);
}

}  // namespace
}  // namespace clubvoice
