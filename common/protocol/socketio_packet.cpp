#include "socketio_packet.hpp"

#include "utf8.hpp"

#include <charconv>
#include <stdexcept>

namespace clubvoice::sio {
namespace {

using nlohmann::json;

template <typename Int>
void append_integer(std::string& out, Int value) {
    char buf[24];
    const auto result = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, result.ptr);
}

// JSON string literal. Bytes >= 0x80 pass through (the text is UTF-8), so
// only quotes, backslashes and control characters need escapes.
void append_json_string(std::string& out, std::string_view s) {
    if (!is_valid_utf8(s)) throw std::invalid_argument("Socket.IO encode: string is not UTF-8");
    constexpr std::string_view kHex = "0123456789abcdef";
    out += '"';
    std::size_t run = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xf];
        }
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

// Writes JSON without a copy of the tree: binary values become placeholders
// on the way and their bytes go to `attachments`.
class Writer {
  public:
    Writer(std::string& out, std::vector<std::string>& attachments, bool allow_binary)
        : out_(out),
          attachments_(attachments),
          first_(attachments.size()),
          allow_binary_(allow_binary) {}

    void write(const json& v) {
        switch (v.type()) {
            case json::value_t::null:
                out_ += "null";
                break;
            case json::value_t::boolean:
                out_ += v.get<bool>() ? "true" : "false";
                break;
            case json::value_t::number_integer:
                append_integer(out_, v.get<json::number_integer_t>());
                break;
            case json::value_t::number_unsigned:
                append_integer(out_, v.get<json::number_unsigned_t>());
                break;
            case json::value_t::number_float:
                out_ += v.dump();
                break;  // NaN/inf -> null
            case json::value_t::string:
                append_json_string(out_, v.get_ref<const std::string&>());
                break;
            case json::value_t::binary:
                write_binary(v.get_binary());
                break;
            case json::value_t::array:
                write_array(v);
                break;
            case json::value_t::object:
                write_object(v);
                break;
            case json::value_t::discarded:
                throw std::invalid_argument("Socket.IO encode: discarded value in data");
        }
    }

  private:
    void write_binary(const json::binary_t& bytes) {
        if (!allow_binary_) {
            throw std::invalid_argument("Socket.IO encode: binary data outside an event or ack");
        }
        out_ += R"({"_placeholder":true,"num":)";
        append_integer(out_, attachments_.size() - first_);
        out_ += '}';
        attachments_.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    void write_array(const json& v) {
        out_ += '[';
        bool first = true;
        for (const json& element : v.get_ref<const json::array_t&>()) {
            if (!first) out_ += ',';
            first = false;
            write(element);
        }
        out_ += ']';
    }
    void write_object(const json& v) {
        out_ += '{';
        bool first = true;
        for (const auto& [key, value] : v.get_ref<const json::object_t&>()) {
            if (!first) out_ += ',';
            first = false;
            append_json_string(out_, key);
            out_ += ':';
            write(value);
        }
        out_ += '}';
    }

    std::string& out_;
    std::vector<std::string>& attachments_;
    std::size_t first_;
    bool allow_binary_;
};

bool is_event_or_ack(PacketType t) {
    return t == PacketType::event || t == PacketType::ack || t == PacketType::binary_event ||
           t == PacketType::binary_ack;
}

void encode_into(const Packet& p, std::string& text, std::vector<std::string>& attachments) {
    const char type = static_cast<char>(p.type);
    if (type < '0' || type > '6') throw std::invalid_argument("Socket.IO encode: invalid type");
    const bool event_like = p.type == PacketType::event || p.type == PacketType::binary_event;
    const std::size_t type_pos = text.size();
    const std::size_t first_attachment = attachments.size();
    if (event_like) {
        text += static_cast<char>(PacketType::event);
    } else if (is_event_or_ack(p.type)) {
        text += static_cast<char>(PacketType::ack);
    } else {
        text += type;
    }
    if (!p.nsp.empty() && p.nsp != "/") {
        if (!is_valid_namespace(p.nsp)) {
            throw std::invalid_argument("Socket.IO encode: invalid namespace");
        }
        text += p.nsp;
        text += ',';
    }
    if (p.id) {
        if (*p.id > kMaxAckId) throw std::invalid_argument("Socket.IO encode: ack id too large");
        append_integer(text, *p.id);
    }
    if (!p.data.is_null() && !p.data.is_discarded()) {
        Writer(text, attachments, is_event_or_ack(p.type)).write(p.data);
    }
    const std::size_t count = attachments.size() - first_attachment;
    if (count == 0) return;
    // The count precedes the namespace on the wire but is known only now.
    text[type_pos] =
        static_cast<char>(event_like ? PacketType::binary_event : PacketType::binary_ack);
    std::string header;
    append_integer(header, count);
    header += '-';
    text.insert(type_pos + 1, header);
}

}  // namespace

Encoded encode(const Packet& p) {
    Encoded encoded;
    encoded.text.reserve(128);  // a typical event in one allocation
    encode_into(p, encoded.text, encoded.attachments);
    return encoded;
}

void encode_append(const Packet& p, std::string& text, std::vector<std::string>& attachments) {
    const std::size_t text_size = text.size();
    const std::size_t attachment_count = attachments.size();
    try {
        encode_into(p, text, attachments);
    } catch (...) {
        text.resize(text_size);
        attachments.resize(attachment_count);
        throw;
    }
}

std::string_view event_name(const Packet& p) {
    if (p.type != PacketType::event && p.type != PacketType::binary_event) return {};
    if (!p.data.is_array() || p.data.empty() || !p.data.front().is_string()) return {};
    return p.data.front().get_ref<const std::string&>();
}

bool is_valid_namespace(std::string_view nsp) {
    return !nsp.empty() && nsp.front() == '/' && nsp.find(',') == std::string_view::npos &&
           is_valid_utf8(nsp);
}

}  // namespace clubvoice::sio
