// The stream fan-out's policy without sockets: readers that keep up get every
// packet once, in order; one that falls behind skips forward and counts what
// it missed; one that stays behind the whole ring too long is to be cut.
#include "stream_fanout.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clubvoice {
namespace {

TEST(StreamFanout, AReaderThatKeepsUpGetsEveryPacketOnceInOrder) {
    StreamFanout<int> fanout(4, 1000);
    fanout.push(-1);  // before it joined: not for it
    StreamReader reader = fanout.join();
    std::vector<int> got;
    for (int i = 0; i < 20; ++i) {
        fanout.push(i);
        EXPECT_TRUE(fanout.keeps_up(reader, 10U * static_cast<unsigned>(i)));
        while (const int* p = fanout.take(reader)) got.push_back(*p);
        EXPECT_FALSE(fanout.pending(reader));
    }
    ASSERT_EQ(got.size(), 20U);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(fanout.lost(reader), 0U);
}

TEST(StreamFanout, AReaderBehindSkipsToTheOldestHeldAndCountsTheRest) {
    StreamFanout<int> fanout(4, 1000);
    StreamReader reader = fanout.join();
    for (int i = 0; i < 10; ++i) fanout.push(i);
    EXPECT_EQ(fanout.lost(reader), 6U);  // counted before it reads, too
    std::vector<int> got;
    while (const int* p = fanout.take(reader)) got.push_back(*p);
    EXPECT_EQ(got, (std::vector<int>{6, 7, 8, 9}));
    EXPECT_EQ(fanout.lost(reader), 6U);
    fanout.leave(reader);
    EXPECT_EQ(fanout.drops_of_gone(), 6U);
}

TEST(StreamFanout, AReaderBehindTheWholeRingTooLongIsToBeCut) {
    StreamFanout<int> fanout(4, 100);
    StreamReader reader = fanout.join();
    std::uint64_t now = 1000;
    for (int i = 0; i < 4; ++i) fanout.push(i);  // the ring is full, all of it still to read
    EXPECT_TRUE(fanout.keeps_up(reader, now));
    EXPECT_EQ(reader.lagging_since_ms, 0U);
    fanout.push(4);  // now behind the whole ring
    EXPECT_TRUE(fanout.keeps_up(reader, now));
    EXPECT_EQ(reader.lagging_since_ms, now);
    EXPECT_TRUE(fanout.keeps_up(reader, now + 100));
    EXPECT_FALSE(fanout.keeps_up(reader, now + 101));
}

TEST(StreamFanout, CatchingUpForgivesTheLag) {
    StreamFanout<int> fanout(4, 100);
    StreamReader reader = fanout.join();
    for (int i = 0; i < 6; ++i) fanout.push(i);
    EXPECT_TRUE(fanout.keeps_up(reader, 1000));
    while (fanout.take(reader) != nullptr) {
    }
    fanout.push(6);
    EXPECT_TRUE(fanout.keeps_up(reader, 5000));  // long after, but it reads again
    EXPECT_EQ(reader.lagging_since_ms, 0U);
}

}  // namespace
}  // namespace clubvoice
