#include "cluster_frame.hpp"

#include <fmt/format.h>

#include <cstring>

namespace clubvoice {
namespace {

constexpr std::string_view kMagic = "CVF1";

template <typename T>
void put(std::string& out, T value) {
    auto bits = static_cast<std::uint64_t>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out.push_back(static_cast<char>(bits & 0xffU));
        bits >>= 8;
    }
}

std::uint64_t get_u64(std::string_view bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = 8; i-- > 0;) {
        value = (value << 8) | static_cast<unsigned char>(bytes[i]);
    }
    return value;
}

std::optional<ClusterFrame> refuse(std::string* problem, std::string what) {
    if (problem != nullptr) *problem = std::move(what);
    return std::nullopt;
}

}  // namespace

void encode_cluster_frame(const ClusterFrame& frame, std::string& out) {
    out.clear();
    out.append(kMagic);
    put(out, frame.seq);
    put(out, frame.capture_ms);
    out.push_back(static_cast<char>(frame.channels));
    out.append(frame.opus);
}

std::optional<ClusterFrame> decode_cluster_frame(std::string_view message, std::string* problem) {
    if (message.size() < kClusterFrameHeader + 1) {
        return refuse(problem, fmt::format("{} bytes: shorter than a frame", message.size()));
    }
    if (message.substr(0, kMagic.size()) != kMagic) return refuse(problem, "not a clubvoice frame");
    ClusterFrame frame;
    frame.seq = get_u64(message.substr(4, 8));
    frame.capture_ms = static_cast<std::int64_t>(get_u64(message.substr(12, 8)));
    frame.channels = static_cast<unsigned char>(message[20]);
    if (frame.channels != 1 && frame.channels != 2) {
        return refuse(problem, fmt::format("{} channels", frame.channels));
    }
    frame.opus = message.substr(kClusterFrameHeader);
    if (frame.opus.size() > kMaxClusterOpusBytes) {
        return refuse(problem, fmt::format("an Opus packet of {} bytes", frame.opus.size()));
    }
    return frame;
}

}  // namespace clubvoice
