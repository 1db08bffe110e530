// What travels for talkers on edges (cluster.*), checked like any input
// (fuzzed: cluster_fuzz). Thread: any (pure).
//
// Edge → origin, on the room's bounded list "clubvoice:<room>:mic":
//   mic packets: "M", node and client id (u8 length + bytes each), a seq
//     flag (u8) and seq (u64, little-endian), then the Opus packet (checked
//     as a `mic` event's is);
//   the rest: "J" and a JSON object:
//     {"kind":"talk","node","id","name","on","allowed","req"} a `talk` request
//     {"kind":"leave","node","id"}                             a talker left
//     {"kind":"alive","node"}                                  each second
// Origin → edges, on the room's channel "clubvoice:<room>:talk" (JSON):
//     {"kind":"answer","node","id","req","answer":{granted,holder,reason?}}
//     {"kind":"state","state":{talkers,floor}}   the room's talk_state
//     {"kind":"close","node","id","why"}         a client to close (flooding)
#pragma once

#include "room_events.hpp"  // MicPacket

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clubvoice {

// Node and client ids are the daemon's random ids; a bound keeps what a
// message can make us store small.
inline constexpr std::size_t kMaxTalkIdBytes = 64;
inline constexpr std::size_t kMaxTalkControlBytes = 4096;

struct TalkIn {
    enum class Kind { mic, talk, leave, alive };
    Kind kind = Kind::alive;
    std::string node, id, name;
    bool on = false, allowed = false;
    std::uint64_t req = 0;
    room::MicPacket mic;  // kind mic: its opus points into the message
};

// NOLINTNEXTLINE(bugprone-exception-escape): json's move is noexcept (its check is an assert)
struct TalkOut {
    enum class Kind { answer, state, close };
    Kind kind = Kind::state;
    std::string node, id, why;
    std::uint64_t req = 0;
    nlohmann::json body;  // the answer's or the state's object, checked
};

// The room's list (edge → origin) and channel (origin → edges).
inline std::string talk_list_of(std::string_view room) {
    return "clubvoice:" + std::string(room) + ":mic";
}
inline std::string talk_channel_of(std::string_view room) {
    return "clubvoice:" + std::string(room) + ":talk";
}

void encode_talk_in(const TalkIn& message, std::string& out);
std::string encode_talk_out(const TalkOut& message);

// The message, or nullopt and what is wrong in `problem`.
std::optional<TalkIn> decode_talk_in(std::string_view message, std::string* problem = nullptr);
std::optional<TalkOut> decode_talk_out(std::string_view message, std::string* problem = nullptr);

}  // namespace clubvoice
