#include "talk_floor.hpp"

#include <gtest/gtest.h>

namespace clubvoice {
namespace {

const TalkerId kAnna{"a1", "Anna"};
const TalkerId kBo{"b2", "Bo"};
const TalkerId kCy{"c3", ""};

TalkAnswer ask(TalkFloor& floor, const TalkerId& who, bool on, bool* changed = nullptr) {
    bool c = false;
    TalkAnswer a = floor.request(who, on, true, c);
    if (changed) *changed = c;
    return a;
}

TEST(TalkFloor, ARoleWithoutTalkIsRefusedWithTheReason) {
    TalkFloor floor(AudioMode::full, 8);
    bool changed = true;
    TalkAnswer a = floor.request(kAnna, true, false, changed);
    EXPECT_FALSE(a.granted);
    EXPECT_FALSE(changed);
    EXPECT_EQ(a.reason, "a talker token is needed");
    EXPECT_FALSE(floor.may_play("a1"));
    EXPECT_TRUE(ask(floor, kBo, true).granted);  // others with the role still may
}

TEST(TalkFloor, ListenModeRefusesEveryone) {
    TalkFloor floor(AudioMode::listen, 8);
    TalkAnswer a = ask(floor, kAnna, true);
    EXPECT_FALSE(a.granted);
    EXPECT_EQ(a.reason, "this room is listen-only");
    EXPECT_FALSE(floor.may_play("a1"));
    EXPECT_EQ(a.to_json(), (nlohmann::json{{"granted", false},
                                           {"holder", nullptr},
                                           {"reason", "this room is listen-only"}}));
}

TEST(TalkFloor, HalfModeOneHolderUntilReleaseOrRemoval) {
    TalkFloor floor(AudioMode::half, 8);
    bool changed = false;
    TalkAnswer a = ask(floor, kAnna, true, &changed);
    EXPECT_TRUE(a.granted);
    EXPECT_TRUE(changed);
    ASSERT_TRUE(a.holder);
    EXPECT_EQ(a.holder->id, "a1");

    TalkAnswer b = ask(floor, kBo, true, &changed);
    EXPECT_FALSE(b.granted);
    EXPECT_FALSE(changed);
    EXPECT_EQ(b.reason, "the floor is held by Anna");
    EXPECT_EQ(b.holder->id, "a1");
    EXPECT_FALSE(floor.may_play("b2"));
    EXPECT_TRUE(floor.may_play("a1"));

    EXPECT_TRUE(ask(floor, kAnna, true, &changed).granted);  // asking again changes nothing
    EXPECT_FALSE(changed);

    TalkAnswer off = ask(floor, kAnna, false, &changed);
    EXPECT_FALSE(off.granted);
    EXPECT_TRUE(changed);
    EXPECT_FALSE(off.holder);
    EXPECT_TRUE(ask(floor, kBo, true).granted);
    EXPECT_TRUE(floor.remove("b2"));  // disconnect
    EXPECT_FALSE(floor.remove("b2"));
    EXPECT_TRUE(ask(floor, kCy, true).granted);
    EXPECT_EQ(floor.state_json(), (nlohmann::json{{"talkers", {{{"id", "c3"}, {"name", ""}}}},
                                                  {"floor", {{"id", "c3"}, {"name", ""}}}}));
    EXPECT_EQ(ask(floor, kAnna, true).reason, "the floor is held by c3");  // no name: the id
}

TEST(TalkFloor, FullModeMixesUpToTheLimit) {
    TalkFloor floor(AudioMode::full, 2);
    EXPECT_TRUE(ask(floor, kAnna, true).granted);
    TalkAnswer b = ask(floor, kBo, true);
    EXPECT_TRUE(b.granted);
    EXPECT_FALSE(b.holder);  // no floor in full mode
    TalkAnswer c = ask(floor, kCy, true);
    EXPECT_FALSE(c.granted);
    EXPECT_EQ(c.reason, "2 clients are already talking (talk.max_talkers)");
    EXPECT_TRUE(floor.may_play("a1"));
    EXPECT_TRUE(floor.may_play("b2"));
    EXPECT_FALSE(floor.may_play("c3"));
    EXPECT_EQ(floor.state_json()["floor"], nullptr);
    EXPECT_EQ(floor.state_json()["talkers"].size(), 2U);
}

TEST(TalkFloor, ModeChangesKeepWhatTheNewModeAllows) {
    TalkFloor floor(AudioMode::full, 8);
    ask(floor, kAnna, true);
    ask(floor, kBo, true);
    EXPECT_TRUE(floor.set_mode(AudioMode::half, 8));
    ASSERT_NE(floor.holder(), nullptr);
    EXPECT_EQ(floor.holder()->id, "a1");
    EXPECT_FALSE(floor.may_play("b2"));
    EXPECT_FALSE(floor.set_mode(AudioMode::full, 8));
    EXPECT_EQ(floor.holder(), nullptr);
    EXPECT_TRUE(floor.set_mode(AudioMode::listen, 8));
    EXPECT_TRUE(floor.talkers().empty());
}

}  // namespace
}  // namespace clubvoice
