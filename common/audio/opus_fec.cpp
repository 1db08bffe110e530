#include "opus_fec.hpp"

#include <opus/opus.h>

#include <algorithm>

namespace clubvoice {

bool opus_packet_has_fec(std::string_view packet) {
    if (packet.empty()) return false;
    const auto* data = reinterpret_cast<const unsigned char*>(packet.data());
    const int config = data[0] >> 3;
    if (config >= 16) return false;  // CELT-only: no SILK layer to carry it
    unsigned char toc = 0;
    const unsigned char* frames[48] = {};
    opus_int16 sizes[48] = {};
    int payload_offset = 0;
    if (opus_packet_parse(data, static_cast<opus_int32>(packet.size()), &toc, frames, sizes,
                          &payload_offset) < 1 ||
        sizes[0] < 1) {
        return false;
    }
    // SILK frames in the first Opus frame: 1 for 10 and 20 ms, 2 for 40, 3 for
    // 60 ms; hybrid (configs 12-15) is 10 or 20 ms only.
    const int silk_frames = config < 12 ? std::max(1, config & 3) : 1;
    // The SILK layer opens with one VAD flag per SILK frame, then the LBRR
    // flag, each coded at probability 1/2: at the start of the range coder's
    // stream those are the leading bits of the frame as they stand.
    return ((frames[0][0] >> (7 - silk_frames)) & 1) != 0;
}

}  // namespace clubvoice
