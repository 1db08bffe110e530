#include "room_events.hpp"

#include "opus_packet_check.hpp"
#include "utf8.hpp"

#include <fmt/format.h>

namespace clubvoice::room {
namespace {

using nlohmann::json;

// [{on: boolean}]: the shape `talk` and `levels` share.
Checked<OnOff> check_on_off(const json& args, std::string_view event) {
    if (!args.is_array() || args.size() != 1 || !args[0].is_object()) {
        return Checked<OnOff>::refuse(fmt::format("{}: send one object {{on: true|false}}", event));
    }
    auto it = args[0].find("on");
    if (it == args[0].end() || !it->is_boolean()) {
        return Checked<OnOff>::refuse(fmt::format("{}: \"on\" must be true or false", event));
    }
    return {OnOff{it->get<bool>()}, {}};
}

}  // namespace

json KeptAuth::to_json() const {
    json out = {{"role", to_string(role)}};
    if (!name.empty()) out["name"] = name;
    if (token) {
        out["token"] = {
            {"name", token->name}, {"role", to_string(token->role)}, {"hash", token->hash}};
    }
    return out;
}

KeptAuth KeptAuth::from_json(const json& auth) {
    KeptAuth out;
    if (!auth.is_object()) return out;
    auto text = [](const json& object, const char* key) {
        auto it = object.find(key);
        return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    out.name = text(auth, "name");
    out.role = role_named(text(auth, "role")).value_or(Role::listener);
    if (auto it = auth.find("token"); it != auth.end() && it->is_object()) {
        out.token =
            AccessToken{text(*it, "name"), role_named(text(*it, "role")).value_or(Role::listener),
                        text(*it, "hash")};
    }
    return out;
}

Checked<ConnectAuth> check_connect_auth(const json& auth) {
    using Result = Checked<ConnectAuth>;
    ConnectAuth out;
    if (auth.is_null()) return {std::move(out), {}};
    if (!auth.is_object()) return Result::refuse("auth must be an object {token?, name?}");
    if (auto it = auth.find("token"); it != auth.end() && !it->is_null()) {
        if (!it->is_string()) return Result::refuse("auth.token must be a string");
        const auto& token = it->get_ref<const std::string&>();
        if (token.size() > kMaxTokenBytes || !is_valid_utf8(token)) {
            return Result::refuse("auth.token is not a token");
        }
        out.token = token;
    }
    if (auto it = auth.find("name"); it != auth.end() && !it->is_null()) {
        if (!it->is_string()) return Result::refuse("auth.name must be a string");
        CleanedText name = clean_client_text(it->get_ref<const std::string&>(), kMaxNameBytes);
        if (!name.ok()) return Result::refuse(fmt::format("auth.name: {}", name.problem));
        out.name = std::move(name.text);
    }
    return {std::move(out), {}};
}

Checked<OnOff> check_talk(const json& args) {
    return check_on_off(args, "talk");
}

Checked<OnOff> check_levels(const json& args) {
    return check_on_off(args, "levels");
}

Checked<GetConfig> check_get_config(const json& args) {
    if (!args.is_array() || !args.empty()) {
        return Checked<GetConfig>::refuse("get_config: takes no arguments");
    }
    return {GetConfig{}, {}};
}

Checked<MicPacket> check_mic(const json& args) {
    using Result = Checked<MicPacket>;
    if (!args.is_array() || args.empty() || args.size() > 2 || !args.back().is_binary()) {
        return Result::refuse("mic: needs one Opus packet as its last argument");
    }
    MicPacket out;
    if (args.size() == 2) {
        const json& meta = args[0];
        if (!meta.is_object()) {
            return Result::refuse("mic: metadata must be {seq: unsigned integer}");
        }
        if (auto it = meta.find("seq"); it != meta.end()) {
            if (!it->is_number_unsigned()) {
                return Result::refuse("mic: seq must be an unsigned integer");
            }
            out.seq = it->get<std::uint64_t>();
        }
    }
    const auto& bytes = args.back().get_binary();
    out.opus = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const OpusPacketCheck check =
        check_opus_packet(out.opus, kMinOpusPacketMs, kMaxOpusPacketMs, kMaxMicPacketBytes);
    if (!check.ok()) return Result::refuse(fmt::format("mic: {}", check.problem));
    out.samples = check.samples;
    return {out, {}};
}

}  // namespace clubvoice::room
