// One message to clients, built once and shared (refcounted) by every
// recipient: its Engine.IO packets, and the complete WebSocket bytes of all of
// them (text frame, then any binary attachment frames) so that a WebSocket
// client gets the whole event in one write. Thread: loop (immutable once built).
#pragma once

#include "engineio_packet.hpp"
#include "socketio_packet.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

struct OutgoingPacket {
    std::vector<eio::Packet> packets;  // for polling transports
    std::string wire;                  // LWS_PRE bytes of headroom, then the WebSocket frames

    std::string_view ws_bytes() const;
    std::size_t ws_size() const;
};

using OutgoingPtr = std::shared_ptr<const OutgoingPacket>;

// Engine.IO packets as one outgoing message.
OutgoingPtr make_outgoing(std::vector<eio::Packet> packets);
// A Socket.IO packet (binary parts become attachments) as one outgoing message.
OutgoingPtr make_outgoing(const sio::Packet& packet);

}  // namespace clubvoice
