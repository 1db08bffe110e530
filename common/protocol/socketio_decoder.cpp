#include "socketio_decoder.hpp"

#include "protocol_error.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace clubvoice::sio {
namespace {

using nlohmann::json;

// Event names the reference implementations keep for themselves; a peer
// sending one is broken or hostile.
constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

[[noreturn]] void fail(const std::string& what) {
    throw ProtocolError("Socket.IO packet: " + what);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads the decimal digits at text[i...]; fails as soon as the value exceeds
// `max`, so a million digits cost nothing and nothing overflows.
std::uint64_t read_bounded(std::string_view text, std::size_t& i, std::uint64_t max,
                           const char* what) {
    std::uint64_t value = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (digit > max || value > (max - digit) / 10) fail(std::string(what) + " too large");
        value = value * 10 + digit;
    }
    return value;
}

struct Header {
    PacketType type = PacketType::connect;
    std::size_t attachments = 0;
    std::string_view nsp = "/";
    std::optional<std::uint64_t> id;
    std::string_view json;  // the rest: empty when the packet has no data
};

Header parse_header(std::string_view text, const DecoderLimits& limits) {
    if (text.empty()) fail("empty message");
    if (text[0] < '0' || text[0] > '6') fail("unknown packet type");
    Header h;
    h.type = static_cast<PacketType>(text[0]);
    std::size_t i = 1;
    if (h.type == PacketType::binary_event || h.type == PacketType::binary_ack) {
        const std::size_t start = i;
        h.attachments = read_bounded(text, i, limits.max_attachments, "attachment count");
        if (i == start || i == text.size() || text[i] != '-') fail("illegal attachment count");
        if (h.attachments == 0) fail("binary packet without attachments");
        ++i;
    }
    if (i < text.size() && text[i] == '/') {
        const std::size_t comma = text.find(',', i);
        h.nsp =
            text.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
        i = comma == std::string_view::npos ? text.size() : comma + 1;
        if (!is_valid_utf8(h.nsp)) fail("namespace is not UTF-8");
    }
    if (i < text.size() && is_digit(text[i])) h.id = read_bounded(text, i, kMaxAckId, "ack id");
    h.json = text.substr(i);
    return h;
}

// The walks over the parsed tree (here and in the encoder) recurse per level,
// so the nesting is measured first, without recursion, and a text nested too
// deeply is refused before anything is built.
void check_depth(std::string_view text, std::size_t max_depth) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) fail("JSON nested deeper than " + std::to_string(max_depth));
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
}

bool is_reserved_event(const std::string& name) {
    return std::find(kReservedEvents.begin(), kReservedEvents.end(), name) != kReservedEvents.end();
}

void validate(const Header& h, const json& data, bool has_data, const DecoderLimits& limits) {
    switch (h.type) {
        case PacketType::connect:
            if (has_data && !data.is_object()) fail("CONNECT payload must be an object");
            break;
        case PacketType::disconnect:
            if (has_data) fail("DISCONNECT must not carry a payload");
            break;
        case PacketType::connect_error:
            if (!limits.allow_connect_error) fail("CONNECT_ERROR is sent by servers only");
            if (!data.is_object() && !data.is_string()) {
                fail("CONNECT_ERROR payload must be an object or a string");
            }
            break;
        case PacketType::event:
        case PacketType::binary_event:
            if (!data.is_array() || data.empty() || !data.front().is_string()) {
                fail("EVENT payload must be an array starting with the event name");
            }
            if (is_reserved_event(data.front().get_ref<const std::string&>())) {
                fail("reserved event name");
            }
            break;
        case PacketType::ack:
        case PacketType::binary_ack:
            if (!h.id) fail("ACK without an id");
            if (!data.is_array()) fail("ACK payload must be an array");
            break;
    }
    const bool takes_id = h.type != PacketType::connect && h.type != PacketType::disconnect &&
                          h.type != PacketType::connect_error;
    if (h.id && !takes_id) fail("ack id on a packet that cannot be acknowledged");
}

// Finds every placeholder (each num in [0, slots.size()) must appear exactly
// once) and refuses numbers JSON.parse would make infinite, which could not
// be sent on. Recursion depth is bounded by check_depth.
void collect_placeholders(json& v, std::vector<json*>& slots) {
    if (v.is_number_float() && !std::isfinite(v.get<double>())) fail("number out of range");
    if (v.is_array()) {
        for (json& element : v.get_ref<json::array_t&>()) collect_placeholders(element, slots);
        return;
    }
    if (!v.is_object()) return;
    auto& object = v.get_ref<json::object_t&>();
    const auto marker = object.find("_placeholder");
    if (marker == object.end()) {
        for (auto& [key, value] : object) collect_placeholders(value, slots);
        return;
    }
    if (slots.empty()) fail("placeholder in a packet without attachments");
    const auto num = object.find("num");
    if (object.size() != 2 || !marker->second.is_boolean() || !marker->second.get<bool>() ||
        num == object.end() || !num->second.is_number_unsigned()) {
        fail(R"(malformed placeholder (want {"_placeholder":true,"num":N}))");
    }
    const auto index = num->second.get<std::uint64_t>();
    if (index >= slots.size()) fail("placeholder num out of range");
    if (slots[index] != nullptr) fail("placeholder num used twice");
    slots[index] = &v;
}

}  // namespace

Decoder::Decoder(DecoderLimits limits) : limits_(limits) {}

std::optional<Packet> Decoder::feed_text(std::string_view text) {
    try {
        if (awaiting_attachments()) fail("text message while attachments are awaited");
        return decode_text(text);
    } catch (...) {
        reset();
        throw;
    }
}

std::optional<Packet> Decoder::feed_binary(std::string_view bytes) {
    try {
        if (!awaiting_attachments()) fail("binary message without a binary packet");
        const auto* first = reinterpret_cast<const std::uint8_t*>(bytes.data());
        *slots_[received_++] =
            json::binary(json::binary_t::container_type(first, first + bytes.size()));
        if (received_ < slots_.size()) return std::nullopt;
        Packet done = std::move(pending_);
        reset();
        return done;
    } catch (...) {
        reset();
        throw;
    }
}

std::optional<Packet> Decoder::decode_text(std::string_view text) {
    const Header h = parse_header(text, limits_);
    Packet p;
    p.nsp = std::string(h.nsp);
    p.id = h.id;
    const bool has_data = !h.json.empty();
    if (has_data) {
        check_depth(h.json, limits_.max_json_depth);
        p.data = json::parse(h.json.begin(), h.json.end(), nullptr, /*allow_exceptions=*/false);
        if (p.data.is_discarded()) fail("payload is not valid JSON");
    }
    validate(h, p.data, has_data, limits_);
    std::vector<json*> slots(h.attachments, nullptr);
    collect_placeholders(p.data, slots);
    if (std::find(slots.begin(), slots.end(), nullptr) != slots.end()) {
        fail("an attachment has no placeholder");
    }
    switch (h.type) {
        case PacketType::binary_event:
            p.type = PacketType::event;
            break;
        case PacketType::binary_ack:
            p.type = PacketType::ack;
            break;
        default:
            p.type = h.type;
    }
    if (slots.empty()) return p;
    // The slots point into heap nodes of p.data, which a move keeps in place.
    pending_ = std::move(p);
    slots_ = std::move(slots);
    received_ = 0;
    return std::nullopt;
}

void Decoder::reset() {
    pending_ = Packet{};
    slots_.clear();
    received_ = 0;
}

}  // namespace clubvoice::sio
