#include "opus_packet_check.hpp"

#include <fmt/format.h>
#include <opus/opus.h>

namespace clubvoice {

OpusPacketCheck check_opus_packet(std::string_view packet, int min_ms, int max_ms,
                                  std::size_t max_bytes) {
    OpusPacketCheck check;
    if (packet.empty()) {
        check.problem = "empty packet";
        return check;
    }
    if (packet.size() > max_bytes) {
        check.problem = fmt::format("{} bytes, more than {}", packet.size(), max_bytes);
        return check;
    }
    const auto* data = reinterpret_cast<const unsigned char*>(packet.data());
    const auto length = static_cast<opus_int32>(packet.size());
    unsigned char toc = 0;
    const unsigned char* frames[48];
    opus_int16 sizes[48];
    int payload_offset = 0;
    if (int n = opus_packet_parse(data, length, &toc, frames, sizes, &payload_offset); n < 0) {
        check.problem = fmt::format("not an Opus packet ({})", opus_strerror(n));
        return check;
    }
    const int samples = opus_packet_get_nb_samples(data, length, 48000);
    if (samples < 0) {
        check.problem = fmt::format("not an Opus packet ({})", opus_strerror(samples));
        return check;
    }
    const int ms = samples / 48;
    if (samples % 48 != 0 || ms < min_ms || ms > max_ms) {
        check.problem =
            fmt::format("{} samples ({} ms), not {} to {} ms", samples, ms, min_ms, max_ms);
        return check;
    }
    check.samples = samples;
    return check;
}

}  // namespace clubvoice
