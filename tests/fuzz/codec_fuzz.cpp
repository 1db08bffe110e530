// libFuzzer target for the Engine.IO and Socket.IO codecs. Besides "no crash,
// no sanitizer report", it checks that whatever decodes re-encodes to the same
// thing: a polling body to the same bytes, a Socket.IO packet to a packet that
// decodes equal, base64 to the same text.
#include "base64.hpp"
#include "engineio_packet.hpp"
#include "protocol_error.hpp"
#include "socketio_decoder.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

using namespace clubvoice;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "codec_fuzz: invariant broken: %s\n", what);
    std::abort();
}

void check_reencodes(const sio::Packet& p) {
    const sio::Encoded encoded = sio::encode(p);
    sio::Decoder again;
    std::optional<sio::Packet> back = again.feed_text(encoded.text);
    for (const std::string& attachment : encoded.attachments) {
        require(!back && again.awaiting_attachments(), "attachments announced");
        back = again.feed_binary(attachment);
    }
    require(back.has_value() && *back == p, "Socket.IO packet survives encode + decode");
}

// Feeds one Engine.IO packet to a session's decoder, as the server would.
void feed(sio::Decoder& decoder, const eio::Packet& p) {
    if (p.type != eio::PacketType::message) return;
    try {
        std::optional<sio::Packet> packet =
            p.binary ? decoder.feed_binary(p.data) : decoder.feed_text(p.data);
        if (packet) check_reencodes(*packet);
    } catch (const ProtocolError&) {
        require(!decoder.awaiting_attachments(), "decoder reset after an error");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // The input as a polling request body.
    try {
        const std::vector<eio::Packet> packets = eio::decode_payload(input);
        std::string body;
        for (const eio::Packet& p : packets) eio::append_to_payload(body, p);
        require(body == input, "polling body survives decode + encode");
        sio::Decoder decoder;
        for (const eio::Packet& p : packets) feed(decoder, p);
    } catch (const ProtocolError&) {
    }

    // The input as one WebSocket text frame, and as a Socket.IO text alone.
    try {
        sio::Decoder decoder;
        feed(decoder, eio::decode_text(input));
    } catch (const ProtocolError&) {
    }
    sio::Decoder decoder({.max_attachments = 3, .max_json_depth = 8});
    feed(decoder, eio::Packet{eio::PacketType::message, false, std::string(input)});

    if (const auto bytes = base64_decode(input)) {
        require(base64_encode(*bytes) == input, "base64 is canonical");
    }
    return 0;
}
