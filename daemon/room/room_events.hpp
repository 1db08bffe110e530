// What a client may send in the room namespace: CONNECT auth and the
// arguments of each event, checked without throwing before any handler sees
// them. Each check is the one description of its event's accepted shape
// (docs/protocol.md lists the same); RoomNamespace dispatches on them.
// Thread: any (pure).
//
//   CONNECT auth  absent, null or {token?: string, name?: string}; other keys
//                 are ignored. name is cleaned (utf8.hpp) and cut to 64 bytes.
//   talk          [{on: boolean}] with an ack
//   levels        [{on: boolean}]
//   get_config    [] with an ack
//   mic           [binary] or [{seq?: unsigned integer}, binary]: one Opus
//                 packet of 10-60 ms and at most 4000 bytes
#pragma once

#include "access_settings.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clubvoice::room {

constexpr std::size_t kMaxNameBytes = 64;
constexpr std::size_t kMaxTokenBytes = 256;
constexpr std::size_t kMaxMicPacketBytes = 4000;  // 60 ms at Opus' highest rate, with room

// An event's arguments after its check: the value, or why they were refused.
template <typename T>
struct Checked {
    std::optional<T> value;
    std::string problem;  // set when value is empty

    static Checked refuse(std::string why) { return {std::nullopt, std::move(why)}; }
    bool ok() const { return value.has_value(); }
};

struct ConnectAuth {
    std::optional<std::string> token;
    std::string name;  // cleaned; may be empty
};

// What a socket keeps of its CONNECT once admitted (SioSocket::auth): the
// name shown to others, the role, and the token entry it was admitted with
// (never the token itself), so a reload can tell whether it still stands.
struct KeptAuth {
    std::string name;
    Role role = Role::listener;
    std::optional<AccessToken> token;

    nlohmann::json to_json() const;
    // Written by to_json on admission; anything else reads as an anonymous listener.
    static KeptAuth from_json(const nlohmann::json& auth);
};
struct OnOff {
    bool on = false;
};
struct GetConfig {};
struct MicPacket {
    std::optional<std::uint64_t> seq;
    std::string_view opus;  // points into the checked arguments
    int samples = 0;        // duration at 48 kHz
};

Checked<ConnectAuth> check_connect_auth(const nlohmann::json& auth);
Checked<OnOff> check_talk(const nlohmann::json& args);
Checked<OnOff> check_levels(const nlohmann::json& args);
Checked<GetConfig> check_get_config(const nlohmann::json& args);
// `args` must outlive the result's `opus` view.
Checked<MicPacket> check_mic(const nlohmann::json& args);

}  // namespace clubvoice::room
