// The shape of /stream.opus's query: at most one token argument, holding a
// token of at most 256 bytes of UTF-8 without control characters; other
// arguments are ignored, up to a bound.
#include "stream_query.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clubvoice {
namespace {

StreamQuery check(std::vector<std::string> args) {
    return check_stream_query(args);
}

TEST(StreamQuery, NoQueryNoToken) {
    const StreamQuery q = check({});
    EXPECT_TRUE(q.ok());
    EXPECT_FALSE(q.token);
}

TEST(StreamQuery, TakesTheTokenAndIgnoresOtherArguments) {
    const StreamQuery q = check({"nocache=123", "token=AbC-_09", "player=mpv"});
    ASSERT_TRUE(q.ok()) << q.problem;
    EXPECT_EQ(q.token, "AbC-_09");
    EXPECT_TRUE(check({"tokens=x", "Token=y", "x=token=z"}).ok()) << "only token= is a token";
    EXPECT_FALSE(check({"tokens=x"}).token);
}

TEST(StreamQuery, RefusesATokenOfTheWrongShape) {
    EXPECT_FALSE(check({"token="}).ok()) << "empty";
    EXPECT_FALSE(check({"token"}).ok()) << "no value";
    EXPECT_FALSE(check({"token=a", "token=a"}).ok()) << "twice";
    EXPECT_FALSE(check({"token=" + std::string(257, 'a')}).ok()) << "too long";
    EXPECT_TRUE(check({"token=" + std::string(256, 'a')}).ok());
    EXPECT_FALSE(check({std::string("token=a\nb")}).ok()) << "a control character";
    EXPECT_FALSE(check({std::string("token=a\x7f")}).ok()) << "DEL";
    EXPECT_FALSE(check({std::string("token=\xc3\x28")}).ok()) << "invalid UTF-8";
    EXPECT_TRUE(check({std::string("token=caf\xc3\xa9")}).ok()) << "UTF-8 is fine";
    const StreamQuery refused = check({"token="});
    EXPECT_FALSE(refused.token);
    EXPECT_FALSE(refused.problem.empty());
}

TEST(StreamQuery, RefusesTooManyArguments) {
    std::vector<std::string> args(kMaxStreamQueryArgs, "x=1");
    EXPECT_TRUE(check(args).ok());
    args.emplace_back("x=1");
    EXPECT_FALSE(check(args).ok());
}

}  // namespace
}  // namespace clubvoice
