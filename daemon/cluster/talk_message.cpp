#include "talk_message.hpp"

#include "opus_packet_check.hpp"

#include <fmt/format.h>

namespace clubvoice {
namespace {

using nlohmann::json;

template <typename T>
std::optional<T> refuse(std::string* problem, std::string what) {
    if (problem != nullptr) *problem = std::move(what);
    return std::nullopt;
}

void put_short(std::string& out, std::string_view text) {
    out.push_back(static_cast<char>(text.size()));
    out.append(text);
}

// Takes a u8-length string off the front of `in`.
std::optional<std::string_view> take_short(std::string_view& in) {
    if (in.empty()) return std::nullopt;
    const auto n = static_cast<unsigned char>(in.front());
    if (n == 0 || n > kMaxTalkIdBytes || in.size() < 1U + n) return std::nullopt;
    std::string_view text = in.substr(1, n);
    in.remove_prefix(1U + n);
    return text;
}

bool valid_id(const json& value) {
    return value.is_string() && !value.get_ref<const std::string&>().empty() &&
           value.get_ref<const std::string&>().size() <= kMaxTalkIdBytes;
}

// {id, name}, as TalkerId's to_json writes it.
bool valid_talker(const json& value) {
    if (!value.is_object() || !valid_id(value.value("id", json()))) return false;
    auto name = value.find("name");
    return name != value.end() && name->is_string() &&
           name->get_ref<const std::string&>().size() <= room::kMaxNameBytes;
}

bool valid_answer(const json& answer) {
    if (!answer.is_object()) return false;
    auto granted = answer.find("granted");
    auto holder = answer.find("holder");
    auto reason = answer.find("reason");
    return granted != answer.end() && granted->is_boolean() && holder != answer.end() &&
           (holder->is_null() || valid_talker(*holder)) &&
           (reason == answer.end() || reason->is_string());
}

bool valid_state(const json& state) {
    if (!state.is_object()) return false;
    auto talkers = state.find("talkers");
    auto floor = state.find("floor");
    if (talkers == state.end() || !talkers->is_array() || floor == state.end() ||
        !(floor->is_null() || valid_talker(*floor))) {
        return false;
    }
    for (const json& t : *talkers) {
        if (!valid_talker(t)) return false;
    }
    return true;
}

// The control message's JSON object, or nullopt (too long, not an object).
std::optional<json> parse_object(std::string_view text, std::string* problem) {
    if (text.size() > kMaxTalkControlBytes) {
        return refuse<json>(problem, fmt::format("{} bytes of JSON: too long", text.size()));
    }
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
        return refuse<json>(problem, "not a JSON object");
    }
    return value;
}

std::optional<std::uint64_t> unsigned_of(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<std::uint64_t>();
}

std::optional<TalkIn> decode_mic(std::string_view in, std::string* problem) {
    TalkIn out;
    out.kind = TalkIn::Kind::mic;
    auto node = take_short(in);
    auto id = node ? take_short(in) : std::nullopt;
    if (!node || !id) return refuse<TalkIn>(problem, "mic: a node or client id missing");
    out.node = *node;
    out.id = *id;
    if (in.size() < 9 || static_cast<unsigned char>(in[0]) > 1) {
        return refuse<TalkIn>(problem, "mic: no seq field");
    }
    std::uint64_t seq = 0;
    for (std::size_t i = 8; i > 0; --i) seq = (seq << 8) | static_cast<unsigned char>(in[i]);
    if (in[0] == 1) {
        out.mic.seq = seq;
    } else if (seq != 0) {
        return refuse<TalkIn>(problem, "mic: a seq without its flag");
    }
    out.mic.opus = in.substr(9);
    const OpusPacketCheck check = check_opus_packet(out.mic.opus, kMinOpusPacketMs,
                                                    kMaxOpusPacketMs, room::kMaxMicPacketBytes);
    if (!check.ok()) return refuse<TalkIn>(problem, "mic: " + check.problem);
    out.mic.samples = check.samples;
    return out;
}

}  // namespace

void encode_talk_in(const TalkIn& message, std::string& out) {
    out.clear();
    if (message.kind == TalkIn::Kind::mic) {
        out.push_back('M');
        put_short(out, message.node);
        put_short(out, message.id);
        out.push_back(message.mic.seq ? '\1' : '\0');
        std::uint64_t seq = message.mic.seq.value_or(0);
        for (int i = 0; i < 8; ++i, seq >>= 8) out.push_back(static_cast<char>(seq & 0xffU));
        out.append(message.mic.opus);
        return;
    }
    json body = {{"node", message.node}};
    switch (message.kind) {
        case TalkIn::Kind::talk:
            body.update({{"kind", "talk"},
                         {"id", message.id},
                         {"name", message.name},
                         {"on", message.on},
                         {"allowed", message.allowed},
                         {"req", message.req}});
            break;
        case TalkIn::Kind::leave:
            body.update({{"kind", "leave"}, {"id", message.id}});
            break;
        default:
            body["kind"] = "alive";
            break;
    }
    out = "J" + body.dump();
}

std::optional<TalkIn> decode_talk_in(std::string_view message, std::string* problem) {
    if (message.empty()) return refuse<TalkIn>(problem, "an empty message");
    if (message.front() == 'M') return decode_mic(message.substr(1), problem);
    if (message.front() != 'J') return refuse<TalkIn>(problem, "not a clubvoice talk message");
    auto body = parse_object(message.substr(1), problem);
    if (!body) return std::nullopt;
    TalkIn out;
    const json kind = body->value("kind", json());
    if (!valid_id(body->value("node", json()))) return refuse<TalkIn>(problem, "no node id");
    out.node = (*body)["node"].get<std::string>();
    if (kind == "alive") {
        out.kind = TalkIn::Kind::alive;
        return out;
    }
    if (!valid_id(body->value("id", json()))) return refuse<TalkIn>(problem, "no client id");
    out.id = (*body)["id"].get<std::string>();
    if (kind == "leave") {
        out.kind = TalkIn::Kind::leave;
        return out;
    }
    if (kind != "talk") return refuse<TalkIn>(problem, "an unknown kind");
    const json name = body->value("name", json());
    const json on = body->value("on", json());
    const json allowed = body->value("allowed", json());
    const auto req = unsigned_of(*body, "req");
    if (!name.is_string() || name.get_ref<const std::string&>().size() > room::kMaxNameBytes ||
        !on.is_boolean() || !allowed.is_boolean() || !req) {
        return refuse<TalkIn>(problem, "talk: needs name, on, allowed and req");
    }
    out.kind = TalkIn::Kind::talk;
    out.name = name.get<std::string>();
    out.on = on.get<bool>();
    out.allowed = allowed.get<bool>();
    out.req = *req;
    return out;
}

std::string encode_talk_out(const TalkOut& message) {
    json body;
    switch (message.kind) {
        case TalkOut::Kind::answer:
            body = {{"kind", "answer"},
                    {"node", message.node},
                    {"id", message.id},
                    {"req", message.req},
                    {"answer", message.body}};
            break;
        case TalkOut::Kind::close:
            body = {{"kind", "close"},
                    {"node", message.node},
                    {"id", message.id},
                    {"why", message.why}};
            break;
        default:
            body = {{"kind", "state"}, {"state", message.body}};
            break;
    }
    return body.dump();
}

std::optional<TalkOut> decode_talk_out(std::string_view message, std::string* problem) {
    auto body = parse_object(message, problem);
    if (!body) return std::nullopt;
    TalkOut out;
    const json kind = body->value("kind", json());
    if (kind == "state") {
        auto state = body->find("state");
        if (state == body->end() || !valid_state(*state)) {
            return refuse<TalkOut>(problem, "state: not {talkers, floor}");
        }
        out.body = std::move(*state);
        return out;
    }
    if (!valid_id(body->value("node", json())) || !valid_id(body->value("id", json()))) {
        return refuse<TalkOut>(problem, "no node or client id");
    }
    out.node = (*body)["node"].get<std::string>();
    out.id = (*body)["id"].get<std::string>();
    if (kind == "close") {
        const json why = body->value("why", json());
        if (!why.is_string()) return refuse<TalkOut>(problem, "close: no reason");
        out.kind = TalkOut::Kind::close;
        out.why = why.get<std::string>();
        return out;
    }
    if (kind != "answer") return refuse<TalkOut>(problem, "an unknown kind");
    const auto req = unsigned_of(*body, "req");
    auto answer = body->find("answer");
    if (!req || answer == body->end() || !valid_answer(*answer)) {
        return refuse<TalkOut>(problem, "answer: needs req and {granted, holder, reason?}");
    }
    out.kind = TalkOut::Kind::answer;
    out.req = *req;
    out.body = std::move(*answer);
    return out;
}

}  // namespace clubvoice
