#include "utf8.hpp"

#include <gtest/gtest.h>

namespace clubvoice {
namespace {

using namespace std::literals;

TEST(Utf8, Validation) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(
        is_valid_utf8("a\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
    for (std::string_view bad :
         {"\x80"sv, "\xc0\x80"sv, "\xc1\xbf"sv, "\xe0\x9f\xbf"sv, "\xed\xa0\x80"sv,
          "\xf0\x8f\xbf\xbf"sv, "\xf4\x90\x80\x80"sv, "\xf5\x80\x80\x80"sv, "\xff"sv, "\xc2"sv,
          "\xe2\x82"sv, "\xe2\x28\xa1"sv}) {
        EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(std::string(bad));
    }
}

TEST(Utf8, CleanKeepsOrdinaryText) {
    const CleanedText c = clean_client_text("Ann \xe6\x9d\x8e", 64);
    EXPECT_TRUE(c.ok());
    EXPECT_EQ(c.text, "Ann \xe6\x9d\x8e");
}

TEST(Utf8, CleanCutsAtCharacterBoundaries) {
    // 63 ASCII bytes then a two-byte character: 65 bytes; a cut at 64 would
    // split the "é", so the whole character goes.
    const std::string name = std::string(63, 'a') + "\xc3\xa9";
    const CleanedText c = clean_client_text(name, 64);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.text, std::string(63, 'a'));
    EXPECT_TRUE(is_valid_utf8(c.text));
    // Every limit around a four-byte character gives valid UTF-8.
    const std::string emoji =
        "ab\xf0\x9f\x8e\xb5"
        "cd";
    for (std::size_t max = 0; max <= emoji.size(); ++max) {
        const CleanedText cut = clean_client_text(emoji, max);
        ASSERT_TRUE(cut.ok());
        EXPECT_LE(cut.text.size(), max);
        EXPECT_TRUE(is_valid_utf8(cut.text)) << max;
    }
}

TEST(Utf8, CleanRemovesControlsAndOuterSpaces) {
    const CleanedText c = clean_client_text("  a\nb\x1b[31m\x7f\xc2\x85 c\xe2\x80\xa8  ", 64);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.text, "ab[31m c");
}

TEST(Utf8, CleanRefusesInvalidUtf8Anywhere) {
    EXPECT_FALSE(clean_client_text("a\xff", 64).ok());
    EXPECT_FALSE(clean_client_text("\xed\xa0\x80", 64).ok());
    // Past the cut too: the text as sent is refused, not a prefix of it.
    const CleanedText late = clean_client_text(std::string(100, 'a') + "\xc3", 10);
    EXPECT_FALSE(late.ok());
    EXPECT_NE(late.problem.find("UTF-8"), std::string::npos);
    EXPECT_TRUE(late.text.empty());
}

}  // namespace
}  // namespace clubvoice
