#include "opus_packet_check.hpp"
#include "opus_encoder.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clubvoice {
namespace {

std::string encoded(std::size_t samples) {
    OpusEncoder encoder(1, OpusEncoderSettings{});
    const auto signal = test::sine(1000, 0.1, 0.3);
    return std::string(encoder.encode(std::span<const float>(signal).first(samples)));
}

TEST(OpusPacketCheck, AcceptsPacketsOfTenToSixtyMs) {
    for (std::size_t samples : {480U, 960U, 1920U, 2880U}) {
        OpusPacketCheck c = check_opus_packet(encoded(samples), 10, 60, 4000);
        EXPECT_TRUE(c.ok()) << c.problem;
        EXPECT_EQ(c.samples, static_cast<int>(samples));
    }
}

TEST(OpusPacketCheck, RefusesWhatIsNotAUsablePacket) {
    EXPECT_EQ(check_opus_packet("", 10, 60, 4000).problem, "empty packet");
    EXPECT_EQ(check_opus_packet(std::string(5000, 'x'), 10, 60, 4000).problem,
              "5000 bytes, more than 4000");
    // 2.5 ms: shorter than the talk path takes.
    EXPECT_EQ(check_opus_packet(encoded(120), 10, 60, 4000).problem,
              "120 samples (2 ms), not 10 to 60 ms");
    // Code 3 (arbitrary frame count) with no count byte: truncated.
    EXPECT_EQ(check_opus_packet(std::string(1, '\x03'), 10, 60, 4000).problem,
              "not an Opus packet (corrupted stream)");
    // Code 2 (two frames of different sizes) whose first length runs past the end.
    EXPECT_FALSE(check_opus_packet(std::string("\x02\xfc\xff", 3), 10, 60, 4000).ok());
}

}  // namespace
}  // namespace clubvoice
