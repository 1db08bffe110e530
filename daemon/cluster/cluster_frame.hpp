// One encoded frame as the origin publishes it on the room's Redis channel
// and edges read it back: "CVF1", the frame's seq (u64) and capture time
// (i64, CLOCK_REALTIME ms), its channel count (u8), then the Opus packet,
// all little-endian and binary-safe. An edge rebuilds from it the very
// `audio` event and Ogg pages the origin makes. What arrives on the channel
// is checked before use like any other input (fuzzed: cluster_fuzz).
// Thread: any (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clubvoice {

struct ClusterFrame {
    std::uint64_t seq = 0;
    std::int64_t capture_ms = 0;
    int channels = 1;
    std::string_view opus;  // points into the message
};

inline constexpr std::size_t kClusterFrameHeader = 4 + 8 + 8 + 1;
// Far above a 60 ms frame at Opus's highest bitrate (510 kbit/s: 3.8 kB).
inline constexpr std::size_t kMaxClusterOpusBytes = 8000;

// Writes the message for `frame` into `out` (replacing what it held, so a
// caller can reuse one buffer).
void encode_cluster_frame(const ClusterFrame& frame, std::string& out);

// The frame in `message`, or nullopt and what is wrong in `problem`.
std::optional<ClusterFrame> decode_cluster_frame(std::string_view message,
                                                 std::string* problem = nullptr);

}  // namespace clubvoice
