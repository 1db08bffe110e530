#include "opus_encoder.hpp"
#include "opus_decoder.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clubvoice {
namespace {

// Encodes `signal` in frames of `frame` samples per channel; returns the packets.
std::vector<std::string> encode_all(OpusEncoder& encoder, const std::vector<float>& signal,
                                    std::size_t frame) {
    std::vector<std::string> packets;
    const std::size_t step = frame * static_cast<std::size_t>(encoder.channels());
    for (std::size_t at = 0; at + step <= signal.size(); at += step) {
        packets.emplace_back(encoder.encode(std::span<const float>(signal).subspan(at, step)));
    }
    return packets;
}

std::vector<float> decode_all(const std::vector<std::string>& packets, int channels) {
    OpusDecoder decoder(channels);
    std::vector<float> out;
    std::vector<float> buffer(OpusDecoder::kMaxFrameSamples * static_cast<std::size_t>(channels));
    for (const auto& p : packets) {
        const int n = decoder.decode(p, buffer);
        out.insert(out.end(), buffer.begin(), buffer.begin() + n * channels);
    }
    return out;
}

TEST(OpusEncoder, ToneSurvivesTheRoundTrip) {
    OpusEncoder encoder(1, OpusEncoderSettings{});
    const auto packets = encode_all(encoder, test::sine(440, 2.0, 0.3), 960);
    ASSERT_EQ(packets.size(), 100U);
    const auto decoded = decode_all(packets, 1);
    ASSERT_EQ(decoded.size(), 96000U);
    const auto steady = std::span<const float>(decoded).subspan(9600);
    EXPECT_NEAR(test::tone_amplitude(steady, 440), 0.3, 0.03);
    EXPECT_LT(test::tone_amplitude(steady, 1000), 0.01);
}

TEST(OpusEncoder, BitrateStaysNearTheTarget) {
    OpusEncoder encoder(1, OpusEncoderSettings{.bitrate_kbps = 32});
    // Noise-like content makes the encoder use what it is given.
    std::vector<float> signal = test::sine(440, 4.0, 0.2);
    std::uint32_t x = 1;
    for (float& s : signal) {
        x = x * 1664525U + 1013904223U;
        s += static_cast<float>(x >> 8) / 16777216.0F * 0.2F - 0.1F;
    }
    const auto packets = encode_all(encoder, signal, 960);
    std::size_t bytes = 0;
    for (const auto& p : packets) bytes += p.size();
    const double kbps = static_cast<double>(bytes) * 8 / 4.0 / 1000;
    EXPECT_NEAR(kbps, 32, 32 * 0.15);
}

TEST(OpusEncoder, StereoAndEveryFrameLength) {
    OpusEncoder encoder(2, OpusEncoderSettings{.bitrate_kbps = 64});
    for (std::size_t frame : {480U, 960U, 1920U, 2880U}) {
        const auto packets = encode_all(encoder, test::sine(440, 0.5, 0.3, 48000, 2), frame);
        const auto decoded = decode_all(packets, 2);
        EXPECT_EQ(decoded.size(), packets.size() * frame * 2) << frame;
    }
}

TEST(OpusEncoder, ReconfigureAndLookahead) {
    OpusEncoder encoder(1, OpusEncoderSettings{});
    EXPECT_GT(encoder.lookahead(), 0);
    encoder.configure(OpusEncoderSettings{.bitrate_kbps = 16, .voip = true, .complexity = 5});
    EXPECT_TRUE(encoder.settings().voip);
    const auto packets = encode_all(encoder, test::sine(440, 1.0, 0.3), 960);
    EXPECT_EQ(packets.size(), 50U);
}

TEST(OpusEncoder, WrongFrameSizeNamesTheCall) {
    OpusEncoder encoder(1, OpusEncoderSettings{});
    std::vector<float> odd(1000);
    try {
        encoder.encode(odd);
        FAIL() << "no error";
    } catch (const OpusError& e) {
        EXPECT_EQ(std::string(e.what()), "opus_encode_float(1000 samples): invalid argument");
    }
}

}  // namespace
}  // namespace clubvoice
