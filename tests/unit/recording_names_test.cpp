// Recording file names and retention (daemon/record/recording_names.hpp).
#include "recording_names.hpp"

#include <gtest/gtest.h>

namespace clubvoice {
namespace {

constexpr std::int64_t kDay = 86400;
// 2026-11-30 03:15:00 UTC.
constexpr std::int64_t kNovember30 = 1796008500;

TEST(RecordingNames, NameIsTheUtcStartTime) {
    EXPECT_EQ(recording_name(kNovember30), "20261130T031500Z.opus");
    EXPECT_EQ(recording_name(0), "19700101T000000Z.opus");
    EXPECT_EQ(recording_name(kNovember30 + 59), "20261130T031559Z.opus");
}

TEST(RecordingNames, StartIsReadBackFromTheName) {
    EXPECT_EQ(recording_start("20261130T031500Z.opus"), kNovember30);
    EXPECT_EQ(recording_start(recording_name(kNovember30 + 12345)), kNovember30 + 12345);
}

TEST(RecordingNames, OtherNamesAreNotRecordings) {
    for (const char* name :
         {"", "20261130T031500Z.ogg", "20261130T031500Z.opus.part", "x20261130T031500Z.opus",
          "20261130 031500Z.opus", "20261130T031500.opus", "2026113aT031500Z.opus",
          "20261131T031500Z.opus", "20261130T251500Z.opus", "20260231T000000Z.opus", "notes.opus",
          "20261130T031500Z.OPUS"}) {
        EXPECT_EQ(recording_start(name), std::nullopt) << name;
    }
}

TEST(RecordingNames, ExpiredAreOlderThanKeepDays) {
    const std::vector<std::string> names = {
        recording_name(kNovember30 - 31 * kDay),      // expired
        recording_name(kNovember30 - 30 * kDay - 1),  // just expired
        recording_name(kNovember30 - 30 * kDay),      // just kept
        recording_name(kNovember30 - kDay),
        "20200101T000000Z.opus",  // expired
        "20200101T000000Z.txt",   // not ours
        "keep-me.opus",
    };
    const auto expired = expired_recordings(names, kNovember30, 30);
    EXPECT_EQ(expired, (std::vector<std::string>{names[0], names[1], "20200101T000000Z.opus"}));
}

TEST(RecordingNames, KeepDaysZeroKeepsEverything) {
    EXPECT_TRUE(expired_recordings({"20200101T000000Z.opus"}, kNovember30, 0).empty());
}

}  // namespace
}  // namespace clubvoice
