#include "fanout_ring.hpp"

#include <gtest/gtest.h>

namespace clubvoice {
namespace {

TEST(FanoutRing, KeepsTheLastItems) {
    FanoutRing<int> ring(3);
    EXPECT_EQ(ring.get(0), nullptr);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(ring.push(i * 10), static_cast<std::uint64_t>(i));
    EXPECT_EQ(ring.head(), 5U);
    EXPECT_EQ(ring.tail(), 2U);
    EXPECT_EQ(ring.get(1), nullptr);
    EXPECT_EQ(*ring.get(2), 20);
    EXPECT_EQ(*ring.get(4), 40);
    EXPECT_EQ(ring.get(5), nullptr);
}

TEST(FanoutRing, ReaderUpToDateGetsEverything) {
    FanoutRing<int> ring(4);
    RingPosition reader{ring.head(), 0};
    for (int i = 0; i < 10; ++i) {
        ring.push(i);
        EXPECT_TRUE(reader.pending(ring));
        ASSERT_NE(reader.take(ring), nullptr);
        EXPECT_FALSE(reader.pending(ring));
        EXPECT_EQ(reader.take(ring), nullptr);
    }
    EXPECT_EQ(reader.dropped, 0U);
}

TEST(FanoutRing, SlowReaderSkipsOldestAndCounts) {
    FanoutRing<int> ring(4);
    RingPosition slow{ring.head(), 0};
    for (int i = 0; i < 10; ++i) ring.push(i);
    EXPECT_EQ(slow.lost(ring), 6U);
    EXPECT_EQ(*slow.take(ring), 6);  // 0..5 fell out of the ring
    EXPECT_EQ(slow.dropped, 6U);
    EXPECT_EQ(*slow.take(ring), 7);
    EXPECT_EQ(*slow.take(ring), 8);
    EXPECT_EQ(*slow.take(ring), 9);
    EXPECT_EQ(slow.take(ring), nullptr);
    EXPECT_EQ(slow.dropped, 6U);
}

}  // namespace
}  // namespace clubvoice
