#include "ws_frame.hpp"

namespace clubvoice {

std::size_t ws_frame_size(std::size_t payload_length) {
    std::size_t header = payload_length < 126 ? 2 : payload_length <= 0xffff ? 4 : 10;
    return header + payload_length;
}

void append_ws_frame(std::string& out, bool binary, std::string_view payload) {
    out.reserve(out.size() + ws_frame_size(payload.size()));
    out += static_cast<char>(0x80 | (binary ? 0x2 : 0x1));
    const std::size_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(n);
    } else if (n <= 0xffff) {
        out += static_cast<char>(126);
        out += static_cast<char>((n >> 8) & 0xff);
        out += static_cast<char>(n & 0xff);
    } else {
        out += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            out += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xff);
        }
    }
    out += payload;
}

}  // namespace clubvoice
