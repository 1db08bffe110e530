// Encodes a test tone into Opus packets, as a browser's microphone would
// send them: the tests' mouth. Output on stdout: packets, each preceded by
// its length as a 4-byte little-endian integer.
// Usage: opus-packets HZ SECONDS [--frame-ms N] [--amplitude A] [--bursts]
//   --bursts  200 ms of tone, 100 ms of silence, repeated (speech-like)
// Packets are encoded for speech (voip) with in-band FEC planned for 10 % loss.
#include "opus_encoder.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fputs("usage: opus-packets HZ SECONDS [--frame-ms N] [--amplitude A] [--bursts]\n",
                   stderr);
        return 2;
    }
    const double hz = std::atof(argv[1]);
    const double seconds = std::atof(argv[2]);
    int frame_ms = 20;
    double amplitude = 0.3;
    bool bursts = false;
    for (int i = 3; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--frame-ms" && i + 1 < argc) {
            frame_ms = std::atoi(argv[++i]);
        } else if (arg == "--amplitude" && i + 1 < argc) {
            amplitude = std::atof(argv[++i]);
        } else if (arg == "--bursts") {
            bursts = true;
        } else {
            std::fprintf(stderr, "opus-packets: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    clubvoice::OpusEncoder encoder(
        1, clubvoice::OpusEncoderSettings{.bitrate_kbps = 32, .voip = true, .packet_loss_pct = 10});
    const int frame = 48 * frame_ms;
    const auto total = static_cast<long>(seconds * 48000);
    std::vector<float> pcm(static_cast<std::size_t>(frame));
    for (long at = 0; at + frame <= total; at += frame) {
        for (int i = 0; i < frame; ++i) {
            const long n = at + i;
            const bool on = !bursts || (n % 14400) < 9600;  // 200 ms on, 100 ms off
            pcm[static_cast<std::size_t>(i)] =
                on ? static_cast<float>(amplitude *
                                        std::sin(2.0 * std::numbers::pi * hz * n / 48000.0))
                   : 0.0F;
        }
        const std::string_view packet = encoder.encode(pcm);
        const auto length = static_cast<std::uint32_t>(packet.size());
        const unsigned char header[4] = {
            static_cast<unsigned char>(length), static_cast<unsigned char>(length >> 8),
            static_cast<unsigned char>(length >> 16), static_cast<unsigned char>(length >> 24)};
        std::fwrite(header, 1, 4, stdout);
        std::fwrite(packet.data(), 1, packet.size(), stdout);
    }
    return 0;
}
