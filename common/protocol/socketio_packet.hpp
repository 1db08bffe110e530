// Socket.IO v5 packets and their encoding (the default parser's text form
// plus binary attachments). Pure, no I/O. Thread: any.
//
// Text form: <type>[<attachments>-][<namespace>,][<ack id>][<JSON>]
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice::sio {

enum class PacketType : char {
    connect = '0',
    disconnect = '1',
    event = '2',
    ack = '3',
    connect_error = '4',
    binary_event = '5',
    binary_ack = '6',
};

struct Packet {
    PacketType type = PacketType::event;
    std::string nsp = "/";
    std::optional<std::uint64_t> id;  // ack id
    nlohmann::json data;              // discarded/null when absent. Binary parts are
                                      // nlohmann::json::binary_t values (json::binary(...)).

    bool operator==(const Packet&) const = default;
};

struct Encoded {
    std::string text;  // the Socket.IO text, e.g. 51-["audio",{...},{"_placeholder":true,"num":0}]
    std::vector<std::string> attachments;  // raw bytes, in placeholder order
};

// The largest ack id accepted and written: what a JavaScript peer can hold
// exactly in a Number (2^53 - 1).
inline constexpr std::uint64_t kMaxAckId = (std::uint64_t{1} << 53) - 1;

// Binary values anywhere in data are taken out as attachments, replaced by
// {"_placeholder":true,"num":N}, and event/ack become binary_event/binary_ack
// (and binary_event/binary_ack without binary values are sent as event/ack).
// Throws std::invalid_argument for what cannot be sent: binary values in a
// packet that is not an event or ack, an invalid namespace, an ack id above
// kMaxAckId, strings that are not UTF-8.
Encoded encode(const Packet& p);

// The same, appending to `text` and `attachments` (e.g. after an Engine.IO
// "4" already in `text`) so a caller can build a frame without a second copy.
// On a throw both are left as they were.
void encode_append(const Packet& p, std::string& text, std::vector<std::string>& attachments);

// data[0] of an event (or binary_event) when it is a string, "" otherwise.
// The view points into p.data.
std::string_view event_name(const Packet& p);

// A namespace as it may appear in a packet: "/" followed by anything but ','
// (which ends it on the wire), valid UTF-8.
bool is_valid_namespace(std::string_view nsp);

}  // namespace clubvoice::sio
