#include "alsa_pcm.hpp"
#include "alsa_sandbox.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

namespace clubvoice {
namespace {

TEST(AlsaPcm, MissingDeviceNamesCallDirectionAndDevice) {
    test::AlsaSandbox sandbox;
    try {
        AlsaPcm::open({.device = "nothere", .direction = PcmDirection::capture});
        FAIL() << "no error";
    } catch (const AlsaError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "snd_pcm_open(capture, \"nothere\"): No such file or directory");
        EXPECT_EQ(e.code(), -ENOENT);
    }
}

TEST(AlsaPcm, GrantsAndReadsAFileCapture) {
    test::AlsaSandbox sandbox;
    const auto tone = test::sine(440, 0.5, 0.25);
    test::write_s16(sandbox.path("tone.raw"), tone);
    sandbox.write_asoundrc(test::AlsaSandbox::capture_pcm("tone", sandbox.path("tone.raw")));

    AlsaPcm pcm = AlsaPcm::open({.device = "tone",
                                 .direction = PcmDirection::capture,
                                 .period_us = 10000,
                                 .buffer_us = 40000});
    const PcmGranted& g = pcm.granted();
    EXPECT_EQ(g.rate_hz, 48000U);
    EXPECT_EQ(g.channels, 1U);
    EXPECT_EQ(g.format, SampleFormat::s16);
    EXPECT_EQ(g.period_frames, 480U);
    EXPECT_EQ(g.buffer_frames, 1920U);
    EXPECT_EQ(g.describe(),
              "48000 Hz, 1 ch, S16_LE, period 480 frames (10.0 ms), buffer 1920 frames (40.0 ms)");

    ASSERT_EQ(pcm.start(), 0);
    std::vector<std::byte> raw(480 * 2);
    ASSERT_EQ(pcm.read(raw, 480), 480);
    std::vector<float> samples(480);
    device_to_float(raw, g.format, 1, samples, 1);
    for (std::size_t i = 0; i < 480; ++i) EXPECT_NEAR(samples[i], tone[i], 1e-4) << i;
}

TEST(AlsaPcm, BufferIsAtLeastTwoPeriods) {
    test::AlsaSandbox sandbox;
    sandbox.write_asoundrc("pcm.silent { type null }\n");
    AlsaPcm pcm = AlsaPcm::open({.device = "silent",
                                 .direction = PcmDirection::playback,
                                 .period_us = 20000,
                                 .buffer_us = 5000});
    EXPECT_EQ(pcm.granted().period_frames, 960U);
    EXPECT_GE(pcm.granted().buffer_frames, 1920U);
}

TEST(AlsaPcm, PlugConvertsChannels) {
    test::AlsaSandbox sandbox;
    test::write_s16(sandbox.path("tone.raw"), test::sine(440, 0.2, 0.25));
    sandbox.write_asoundrc(
        test::AlsaSandbox::capture_pcm("mono", sandbox.path("tone.raw")) +
        "pcm.stereo { type plug slave { pcm mono channels 1 format S16_LE rate 48000 } }\n");
    AlsaPcm pcm =
        AlsaPcm::open({.device = "stereo", .direction = PcmDirection::capture, .channels = 2});
    EXPECT_EQ(pcm.granted().channels, 2U);
}

TEST(AlsaPcm, PlaybackWritesTheFile) {
    test::AlsaSandbox sandbox;
    sandbox.write_asoundrc(test::AlsaSandbox::playback_pcm("out", sandbox.path("out.raw")));
    const auto tone = test::sine(1000, 0.1, 0.25);
    {
        AlsaPcm pcm = AlsaPcm::open({.device = "out", .direction = PcmDirection::playback});
        std::vector<std::byte> raw(tone.size() * 2);
        float_to_device(tone, 1, raw, pcm.granted().format, 1);
        ASSERT_EQ(pcm.write(raw, 1920), 1920);  // one buffer; the rest follows after start
        ASSERT_EQ(pcm.start(), 0);
        ASSERT_EQ(pcm.write(std::span<const std::byte>(raw).subspan(1920 * 2), tone.size() - 1920),
                  static_cast<long>(tone.size() - 1920));
    }  // closing flushes the file
    const auto written = test::read_s16(sandbox.path("out.raw"));
    ASSERT_EQ(written.size(), tone.size());
    EXPECT_NEAR(test::tone_amplitude(written, 1000), 0.25, 0.01);
}

}  // namespace
}  // namespace clubvoice
