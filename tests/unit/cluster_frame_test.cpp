// The frames an origin publishes to Redis and an edge reads back: a round
// trip keeps every field, and what is not such a frame is refused with a
// reason.
#include "cluster_frame.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clubvoice {
namespace {

TEST(ClusterFrame, RoundTripKeepsEveryField) {
    const std::string opus = std::string("\xf8\xff\xfe", 3) + std::string(100, '\0');
    std::string message;
    encode_cluster_frame({0x0102030405060708ULL, -1764460800123LL, 2, opus}, message);
    EXPECT_EQ(message.size(), kClusterFrameHeader + opus.size());
    EXPECT_EQ(message.substr(0, 4), "CVF1");
    EXPECT_EQ(static_cast<unsigned char>(message[4]), 0x08);  // little-endian
    const auto frame = decode_cluster_frame(message);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->seq, 0x0102030405060708ULL);
    EXPECT_EQ(frame->capture_ms, -1764460800123LL);
    EXPECT_EQ(frame->channels, 2);
    EXPECT_EQ(frame->opus, opus);
}

TEST(ClusterFrame, BufferIsReused) {
    std::string message = "left over from before";
    encode_cluster_frame({1, 2, 1, "x"}, message);
    EXPECT_EQ(message.size(), kClusterFrameHeader + 1);
}

TEST(ClusterFrame, RefusesWhatIsNotAFrame) {
    std::string problem;
    EXPECT_FALSE(decode_cluster_frame("", &problem));
    EXPECT_EQ(problem, "0 bytes: shorter than a frame");
    std::string message;
    encode_cluster_frame({1, 2, 1, "x"}, message);
    EXPECT_FALSE(decode_cluster_frame(message.substr(0, kClusterFrameHeader), &problem));
    std::string other = message;
    other[0] = 'X';
    EXPECT_FALSE(decode_cluster_frame(other, &problem));
    EXPECT_EQ(problem, "not a clubvoice frame");
    other = message;
    other[20] = 3;
    EXPECT_FALSE(decode_cluster_frame(other, &problem));
    EXPECT_EQ(problem, "3 channels");
    encode_cluster_frame({1, 2, 1, std::string(kMaxClusterOpusBytes + 1, 'x')}, message);
    EXPECT_FALSE(decode_cluster_frame(message, &problem));
    EXPECT_EQ(problem, "an Opus packet of 8001 bytes");
}

}  // namespace
}  // namespace clubvoice
