#include "pass_timer.hpp"

#include <gtest/gtest.h>

namespace clubvoice {
namespace {

constexpr std::int64_t kMs = 1'000'000;

TEST(PassTimer, BucketsCountAndBudget) {
    PassTimer t(20 * kMs);
    t.add(100'000, 1 * kMs);   // 0.1 ms
    t.add(3 * kMs, 2 * kMs);   // 3 ms
    t.add(30 * kMs, 3 * kMs);  // over the 20 ms frame
    t.add(5'000 * kMs, 4 * kMs);
    EXPECT_EQ(t.passes(), 4U);
    EXPECT_EQ(t.over_budget(), 2U);
    const auto c = t.cumulative();
    EXPECT_EQ(c[0], 1U);             // <= 0.5 ms
    EXPECT_EQ(c[3], 2U);             // <= 5 ms
    EXPECT_EQ(c[6], 3U);             // <= 50 ms
    EXPECT_EQ(c.back(), 4U);         // +Inf
    EXPECT_EQ(c[c.size() - 2], 3U);  // <= 1 s: the 5 s pass is only in +Inf
    EXPECT_DOUBLE_EQ(t.longest_ms(), 5000.0);
}

TEST(PassTimer, LongestOfTheLastWholeSecond) {
    PassTimer t;
    t.add(0, 0);
    t.add(7 * kMs, 500 * kMs);
    t.add(2 * kMs, 1'100 * kMs);  // a new second: the last one's longest was 7 ms
    EXPECT_DOUBLE_EQ(t.longest_last_second_ms(), 7.0);
    t.add(1 * kMs, 2'200 * kMs);
    EXPECT_DOUBLE_EQ(t.longest_last_second_ms(), 2.0);
    t.add(3'000 * kMs, 9'000 * kMs);  // one pass of 3 s: the second it ends in holds it
    EXPECT_DOUBLE_EQ(t.longest_last_second_ms(), 1.0);
    t.add(1 * kMs, 10'100 * kMs);
    EXPECT_DOUBLE_EQ(t.longest_last_second_ms(), 3000.0);
}

TEST(PassTimer, PrometheusHistogram) {
    PassTimer t;
    t.add(1 * kMs, 0);
    std::string out;
    PrometheusWriter writer(out);
    t.report(writer);
    EXPECT_NE(out.find("# TYPE clubvoice_loop_pass_seconds histogram"), std::string::npos);
    EXPECT_NE(out.find("clubvoice_loop_pass_seconds_bucket{le=\"0.001\"} 1"), std::string::npos);
    EXPECT_NE(out.find("clubvoice_loop_pass_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
    EXPECT_NE(out.find("clubvoice_loop_pass_seconds_count 1"), std::string::npos);
    EXPECT_NE(out.find("clubvoice_loop_longest_pass_ms"), std::string::npos);
}

}  // namespace
}  // namespace clubvoice
