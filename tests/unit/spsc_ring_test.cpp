#include "spsc_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace clubvoice {
namespace {

TEST(SpscRing, CapacityIsRoundedUpToAPowerOfTwo) {
    EXPECT_EQ(SpscRing<int>(1000).capacity(), 1024U);
    EXPECT_EQ(SpscRing<int>(1024).capacity(), 1024U);
    EXPECT_EQ(SpscRing<int>(0).capacity(), 2U);
}

TEST(SpscRing, KeepsOrderAcrossTheWrap) {
    SpscRing<int> ring(8);
    std::vector<int> out(8);
    int next_in = 0;
    int next_out = 0;
    for (int round = 0; round < 20; ++round) {  // pushes 5, pops 5: positions wrap every ~2 rounds
        std::vector<int> in;
        for (int i = 0; i < 5; ++i) in.push_back(next_in++);
        ASSERT_TRUE(ring.push_all(in));
        ASSERT_EQ(ring.pop_some(std::span<int>(out).first(5)), 5U);
        for (int i = 0; i < 5; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)], next_out++);
    }
}

TEST(SpscRing, FullAndEmpty) {
    SpscRing<int> ring(4);
    const std::vector<int> five{1, 2, 3, 4, 5};
    EXPECT_FALSE(ring.push_all(five));  // all or nothing
    EXPECT_EQ(ring.read_available(), 0U);
    EXPECT_EQ(ring.push_some(five), 4U);
    EXPECT_EQ(ring.write_available(), 0U);
    EXPECT_FALSE(ring.push(6));
    int x = 0;
    ASSERT_TRUE(ring.pop(x));
    EXPECT_EQ(x, 1);
    EXPECT_EQ(ring.discard(10), 3U);
    EXPECT_FALSE(ring.pop(x));
    EXPECT_EQ(ring.write_available(), 4U);
}

// Two threads, random burst sizes on both sides, a small ring so it is full
// and empty often: every item must arrive once, in order.
TEST(SpscRing, TwoThreadStressKeepsOrderWithoutLossOrDuplicates) {
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer slows every access tenfold or more; this still wraps the ring 30,000 times.
    constexpr std::uint64_t kItems = 2'000'000;
#else
    constexpr std::uint64_t kItems = 20'000'000;
#endif
    SpscRing<std::uint64_t> ring(64);
    std::atomic<bool> stop{false};

    std::thread producer([&] {
        std::mt19937 rng(1);
        std::uniform_int_distribution<std::size_t> burst(1, 100);
        std::vector<std::uint64_t> batch(100);
        std::uint64_t next = 0;
        while (next < kItems && !stop.load(std::memory_order_relaxed)) {
            const std::size_t n = std::min<std::uint64_t>(burst(rng), kItems - next);
            for (std::size_t i = 0; i < n; ++i) batch[i] = next + i;
            next += ring.push_some(std::span<const std::uint64_t>(batch).first(n));
        }
    });

    std::mt19937 rng(2);
    std::uniform_int_distribution<std::size_t> burst(1, 100);
    std::vector<std::uint64_t> batch(100);
    std::uint64_t expected = 0;
    bool mismatch = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(50);
    while (expected < kItems && std::chrono::steady_clock::now() < deadline) {
        const std::size_t got = ring.pop_some(std::span<std::uint64_t>(batch).first(burst(rng)));
        for (std::size_t i = 0; i < got; ++i) {
            if (batch[i] != expected) {
                mismatch = true;
                ADD_FAILURE() << "got " << batch[i] << ", expected " << expected;
                break;
            }
            ++expected;
        }
        if (mismatch) break;
    }
    stop = true;  // ends a producer that is still pushing after a failure
    producer.join();
    EXPECT_EQ(expected, kItems);
    EXPECT_EQ(ring.read_available(), 0U);
}

}  // namespace
}  // namespace clubvoice
