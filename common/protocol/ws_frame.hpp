// Server-to-client WebSocket frames (RFC 6455), built by hand so that an
// event's text frame and binary frame can be sent to every listener in one
// write. Server frames are unmasked, so the bytes are the same for everyone.
// Thread: any.
#pragma once

#include <string>
#include <string_view>

namespace clubvoice {

// Appends one final frame (FIN set, opcode 0x1 text or 0x2 binary) to `out`.
void append_ws_frame(std::string& out, bool binary, std::string_view payload);

// The size append_ws_frame adds for a payload of this length.
std::size_t ws_frame_size(std::size_t payload_length);

}  // namespace clubvoice
