#include "outgoing_packet.hpp"

#include "ws_frame.hpp"

#include <libwebsockets.h>

namespace clubvoice {

std::string_view OutgoingPacket::ws_bytes() const {
    return std::string_view(wire).substr(LWS_PRE);
}

std::size_t OutgoingPacket::ws_size() const {
    return wire.size() - LWS_PRE;
}

OutgoingPtr make_outgoing(std::vector<eio::Packet> packets) {
    auto out = std::make_shared<OutgoingPacket>();
    std::size_t size = LWS_PRE;
    for (const auto& p : packets) size += ws_frame_size(p.data.size() + 1);
    out->wire.reserve(size);
    out->wire.assign(LWS_PRE, '\0');
    for (const auto& p : packets) {
        if (p.binary) {
            append_ws_frame(out->wire, true, p.data);  // binary messages carry no type byte
        } else {
            append_ws_frame(out->wire, false, eio::encode_text(p));
        }
    }
    out->packets = std::move(packets);
    return out;
}

OutgoingPtr make_outgoing(const sio::Packet& packet) {
    sio::Encoded encoded = sio::encode(packet);
    std::vector<eio::Packet> packets;
    packets.reserve(1 + encoded.attachments.size());
    packets.push_back({eio::PacketType::message, false, std::move(encoded.text)});
    for (auto& attachment : encoded.attachments) {
        packets.push_back({eio::PacketType::message, true, std::move(attachment)});
    }
    return make_outgoing(std::move(packets));
}

}  // namespace clubvoice
