#include "engineio_packet.hpp"

#include "base64.hpp"
#include "protocol_error.hpp"

#include <stdexcept>

namespace clubvoice::eio {
namespace {

bool is_type_char(char c) {
    return c >= '0' && c <= '6';
}

// `index` is the packet's 1-based place in a polling body, or 0 for a frame.
[[noreturn]] void fail(std::size_t index, const std::string& what) {
    const std::string where = index == 0 ? "text frame" : "payload packet " + std::to_string(index);
    throw ProtocolError("Engine.IO " + where + ": " + what);
}

// One packet in its text form: "<type><data>" or "b<base64>".
Packet decode_one(std::string_view text, std::size_t index) {
    if (text.empty()) fail(index, "empty packet");
    const char first = text.front();
    if (first == 'b') {
        std::optional<std::string> bytes = base64_decode(text.substr(1));
        if (!bytes) fail(index, "binary message is not valid base64");
        return Packet{PacketType::message, true, std::move(*bytes)};
    }
    if (!is_type_char(first)) {
        constexpr std::string_view kHex = "0123456789abcdef";
        const auto byte = static_cast<unsigned char>(first);
        fail(index, std::string("unknown packet type 0x") + kHex[byte >> 4] + kHex[byte & 0xf]);
    }
    return Packet{static_cast<PacketType>(first), false, std::string(text.substr(1))};
}

void check_encodable(const Packet& p) {
    if (!is_type_char(static_cast<char>(p.type))) {
        throw std::invalid_argument("Engine.IO encode: invalid packet type");
    }
    if (p.binary && p.type != PacketType::message) {
        throw std::invalid_argument("Engine.IO encode: only a message can carry bytes");
    }
}

// A separator inside a text packet would split it in two on the other side.
void check_no_separator(const Packet& p) {
    if (p.data.find(kPayloadSeparator) != std::string::npos) {
        throw std::invalid_argument("Engine.IO append_to_payload: text contains 0x1e");
    }
}

}  // namespace

Packet decode_text(std::string_view frame) {
    return decode_one(frame, 0);
}

Packet decode_binary(std::string_view frame) {
    return Packet{PacketType::message, true, std::string(frame)};
}

std::string encode_text(const Packet& p) {
    check_encodable(p);
    if (p.binary) throw std::invalid_argument("Engine.IO encode_text: packet is binary");
    std::string out;
    out.reserve(1 + p.data.size());
    out += static_cast<char>(p.type);
    out += p.data;
    return out;
}

std::vector<Packet> decode_payload(std::string_view body) {
    if (body.empty()) throw ProtocolError("Engine.IO payload: empty body");
    std::vector<Packet> packets;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = body.find(kPayloadSeparator, start);
        const std::string_view text = body.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        packets.push_back(decode_one(text, packets.size() + 1));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return packets;
}

void append_to_payload(std::string& out, const Packet& p) {
    check_encodable(p);
    if (!out.empty()) out += kPayloadSeparator;
    if (p.binary) {
        out += 'b';
        out += base64_encode(p.data);
    } else {
        check_no_separator(p);
        out += static_cast<char>(p.type);
        out += p.data;
    }
}

}  // namespace clubvoice::eio
