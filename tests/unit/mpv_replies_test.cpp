#include "mpv_replies.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clubvoice {
namespace {

TEST(MpvReplies, CountsRefusalsAcrossSplitLinesAndIgnoresEvents) {
    MpvReplies r;
    EXPECT_EQ(r.feed(R"({"request_id":1,"error":"succ)"), 0U);
    EXPECT_EQ(r.feed("ess\"}\n{\"event\":\"volume\"}\n{\"error\":\"property unavail"), 0U);
    EXPECT_EQ(r.feed("able\"}\nnot json\n"), 1U);
    EXPECT_EQ(r.last_error(), R"("property unavailable")");
    EXPECT_EQ(r.lines(), 4U);
    EXPECT_EQ(r.pending_bytes(), 0U);
}

TEST(MpvReplies, ALineLongerThanMpvWritesIsDroppedAndErrorsStayShort) {
    MpvReplies r;
    r.feed(std::string(MpvReplies::kMaxLineBytes + 1, 'x'));
    EXPECT_EQ(r.pending_bytes(), 0U);
    EXPECT_EQ(r.dropped_bytes(), MpvReplies::kMaxLineBytes + 1);
    EXPECT_EQ(r.feed("{\"error\":\"" + std::string(1000, 'e') + "\\n\"}\n"), 1U);
    EXPECT_LE(r.last_error().size(), MpvReplies::kMaxErrorChars + 3);
    EXPECT_EQ(r.last_error().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace clubvoice
