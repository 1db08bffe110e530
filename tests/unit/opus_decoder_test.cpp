#include "opus_decoder.hpp"
#include "opus_encoder.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clubvoice {
namespace {

TEST(OpusDecoder, ConcealsALostFrame) {
    OpusEncoder encoder(1, OpusEncoderSettings{});
    OpusDecoder decoder(1);
    const auto signal = test::sine(440, 0.2, 0.3);
    std::vector<float> out(960);
    for (std::size_t at = 0; at + 960 <= signal.size(); at += 960) {
        std::string packet(encoder.encode(std::span<const float>(signal).subspan(at, 960)));
        EXPECT_EQ(decoder.decode(packet, out), 960);
    }
    EXPECT_EQ(decoder.decode({}, out), 960);  // loss concealment fills the frame
    EXPECT_GT(test::rms(out), 0.01);
}

TEST(OpusDecoder, RecoversALostFrameFromFec) {
    OpusEncoder encoder(1, OpusEncoderSettings{.voip = true, .fec = true, .packet_loss_pct = 20});
    OpusDecoder decoder(1);
    const auto signal = test::sine(300, 1.0, 0.3);
    std::vector<std::string> packets;
    for (std::size_t at = 0; at + 960 <= signal.size(); at += 960) {
        packets.emplace_back(encoder.encode(std::span<const float>(signal).subspan(at, 960)));
    }
    std::vector<float> out(960);
    for (std::size_t i = 0; i < 30; ++i) decoder.decode(packets[i], out);
    // Packet 30 is lost: packet 31 carries a lower-quality copy of it.
    EXPECT_EQ(decoder.decode_fec(packets[31], out), 960);
    EXPECT_GT(test::tone_amplitude(out, 300), 0.1);
}

TEST(OpusDecoder, CorruptPacketIsAnError) {
    OpusDecoder decoder(2);
    std::vector<float> out(OpusDecoder::kMaxFrameSamples * 2);
    // TOC byte for code 3 (arbitrary frame count) with a frame count of 0: invalid.
    const std::string bad("\x03\x00", 2);
    EXPECT_THROW(decoder.decode(bad, out), OpusError);
}

}  // namespace
}  // namespace clubvoice
