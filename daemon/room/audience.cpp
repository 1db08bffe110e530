#include "audience.hpp"

#include <cstdint>
#include <vector>

namespace clubvoice {

void Audience::join(SioSocket& socket) {
    members_[socket.id()] = &socket;
    update(socket.id());
}

void Audience::leave(SioSocket& socket) {
    socket.set_stream(false);
    members_.erase(socket.id());
    muted_.erase(socket.id());
}

void Audience::set_muted(const std::string& id, bool muted) {
    if (muted) {
        muted_.insert(id);
    } else {
        muted_.erase(id);
    }
    update(id);
}

void Audience::update(const std::string& id) {
    auto it = members_.find(id);
    if (it != members_.end()) it->second->set_stream(muted_.count(id) == 0);
}

void Audience::publish(const EncodedFrame& frame) {
    // Encoded once, framed once: every member's session takes a reference
    // from the server's stream ring.
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(frame.opus.data());
    sio::Packet packet{sio::PacketType::event, "/", std::nullopt,
                       nlohmann::json::array({"audio",
                                              {{"seq", frame.seq}, {"t", frame.capture_ms}},
                                              nlohmann::json::binary(std::vector<std::uint8_t>(
                                                  bytes, bytes + frame.opus.size()))})};
    server_.publish_stream(make_outgoing(packet));
}

}  // namespace clubvoice
