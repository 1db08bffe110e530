// Checks what a client sent as one Opus packet before it reaches a decoder:
// its structure (TOC byte, frame count and lengths, padding) and duration.
// Thread: any (pure).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace clubvoice {

// How long a talker's packet may last. The room refuses others (shorter ones
// cost too much per packet), and the jitter buffer sizes its ring for these.
inline constexpr int kMinOpusPacketMs = 10;
inline constexpr int kMaxOpusPacketMs = 60;

struct OpusPacketCheck {
    int samples = 0;      // duration at 48 kHz, when valid
    std::string problem;  // why it is refused; empty when valid

    bool ok() const { return problem.empty(); }
};

// A packet is accepted when libopus can parse it, it lasts from min_ms to
// max_ms, and it is at most max_bytes long.
OpusPacketCheck check_opus_packet(std::string_view packet, int min_ms, int max_ms,
                                  std::size_t max_bytes);

}  // namespace clubvoice
