// Whether an Opus packet carries in-band FEC for the frame before it, read
// from the packet's bits without decoding it: the jitter buffer asks before it
// rebuilds a lost frame from the next packet. Thread: any (pure).
#pragma once

#include <string_view>

namespace clubvoice {

// The SILK LBRR flag of the packet's first frame; CELT-only packets never carry FEC.
bool opus_packet_has_fec(std::string_view packet);

}  // namespace clubvoice
