// Engine.IO v4 packets: one packet per WebSocket frame, or several in a
// long-polling body separated by 0x1e. Pure, no I/O. Thread: any.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace clubvoice::eio {

enum class PacketType : char {
    open = '0',
    close = '1',
    ping = '2',
    pong = '3',
    message = '4',
    upgrade = '5',
    noop = '6',
};

struct Packet {
    PacketType type = PacketType::message;
    bool binary = false;  // a message carrying bytes (WebSocket binary frame / "b..." in polling)
    std::string data;     // the text after the type character, or the raw bytes when binary

    bool operator==(const Packet&) const = default;
};

// The record separator between packets of a polling body.
inline constexpr char kPayloadSeparator = '\x1e';

// One WebSocket text frame. A frame "b<base64>" is a binary message too (what
// clients with forceBase64 send). Throws ProtocolError.
Packet decode_text(std::string_view frame);

// One WebSocket binary frame: always a binary message.
Packet decode_binary(std::string_view frame);

// Type character + data. Throws std::invalid_argument for a binary packet.
std::string encode_text(const Packet& p);

// A polling request body (packets separated by 0x1e; "b<base64>" = binary
// message) -> packets. Throws ProtocolError on an empty body, empty packet,
// unknown type, bad base64.
std::vector<Packet> decode_payload(std::string_view body);

// Appends one packet to a polling response body (0x1e first unless `out` is
// empty; binary messages as "b" + base64). Throws std::invalid_argument for a
// binary packet that is not a message.
void append_to_payload(std::string& out, const Packet& p);

}  // namespace clubvoice::eio
