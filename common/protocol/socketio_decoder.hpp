// Turns the Engine.IO messages of one session into Socket.IO packets,
// reassembling binary packets (a text header, then one binary message per
// attachment). Strict: anything the protocol does not allow throws
// ProtocolError, and the caller closes the session. Thread: the owner's
// (one decoder per session).
#pragma once

#include "socketio_packet.hpp"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace clubvoice::sio {

struct DecoderLimits {
    std::size_t max_attachments = 10;
    std::size_t max_json_depth = 32;  // nested arrays/objects; ["a",{}] has depth 2
    // CONNECT_ERROR only travels server -> client; a server's decoder refuses it.
    bool allow_connect_error = false;
};

class Decoder {
  public:
    explicit Decoder(DecoderLimits limits = {});
    Decoder(Decoder&&) = default;
    Decoder& operator=(Decoder&&) = default;
    // Copying would leave the attachment slots pointing into the original.
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    // A text message: the packet, or nullopt when it announced attachments.
    // Decoded packets are event/ack; binary_event/binary_ack exist only on
    // the wire (the bytes are json::binary values inside data).
    std::optional<Packet> feed_text(std::string_view text);
    // A binary message: the next attachment; the packet once it is complete.
    std::optional<Packet> feed_binary(std::string_view bytes);
    bool awaiting_attachments() const { return !slots_.empty(); }

  private:
    std::optional<Packet> decode_text(std::string_view text);
    void reset();

    DecoderLimits limits_;
    Packet pending_;                      // a binary packet waiting for attachments
    std::vector<nlohmann::json*> slots_;  // placeholder num -> its node inside pending_.data
    std::size_t received_ = 0;
};

}  // namespace clubvoice::sio
