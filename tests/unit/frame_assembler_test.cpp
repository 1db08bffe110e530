#include "frame_assembler.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace clubvoice {
namespace {

struct Frame {
    std::vector<float> samples;
    std::int64_t first_ns;
};

TEST(FrameAssembler, CutsChunksOfAnySizeIntoFrames) {
    FrameAssembler assembler(960, 1, 48000);  // 20 ms frames
    std::vector<Frame> frames;
    auto emit = [&](std::span<float> f, std::int64_t ns) {
        frames.push_back({std::vector<float>(f.begin(), f.end()), ns});
    };
    // 3000 samples in chunks of 480, 700 and 1820; the stream starts at t=1 s.
    std::vector<float> all(3000);
    std::iota(all.begin(), all.end(), 0.0F);
    std::int64_t t = 1'000'000'000;
    std::size_t at = 0;
    for (std::size_t n : {480U, 700U, 1820U}) {
        assembler.add(t, std::span<const float>(all).subspan(at, n), emit);
        t += static_cast<std::int64_t>(n) * 1'000'000'000 / 48000;
        at += n;
    }
    ASSERT_EQ(frames.size(), 3U);
    EXPECT_EQ(assembler.pending(), 3000U - 3 * 960);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        EXPECT_EQ(frames[i].samples.front(), static_cast<float>(i * 960));
        EXPECT_EQ(frames[i].samples.back(), static_cast<float>(i * 960 + 959));
        // Each frame's time is its first sample's: 20 ms apart, even when it
        // starts inside a chunk.
        EXPECT_NEAR(frames[i].first_ns, 1'000'000'000 + static_cast<std::int64_t>(i) * 20'000'000,
                    1);  // the chunks' own times are rounded to whole ns
    }
}

TEST(FrameAssembler, StereoAndClear) {
    FrameAssembler assembler(480, 2, 48000);
    int frames = 0;
    auto emit = [&](std::span<float> f, std::int64_t) {
        EXPECT_EQ(f.size(), 960U);
        ++frames;
    };
    std::vector<float> chunk(900);
    assembler.add(0, chunk, emit);
    EXPECT_EQ(assembler.pending(), 450U);
    assembler.clear();
    assembler.add(0, chunk, emit);
    EXPECT_EQ(frames, 0);
    assembler.add(0, chunk, emit);  // 450 + 450 frames: one whole frame
    EXPECT_EQ(frames, 1);
    EXPECT_EQ(assembler.pending(), 420U);
}

}  // namespace
}  // namespace clubvoice
