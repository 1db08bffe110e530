// Who may talk into the room, and who does: the rules of audio.mode.
//
//   listen  nobody talks; every request is refused with a reason
//   half    one talker holds the floor until they let go (or are released)
//   full    every granted talker is mixed, up to max_talkers at once
//
// Whether a client may talk at all is one function (may_talk): the mode, and
// what its role allows (access.talk). Thread: one owner (the loop); no I/O.
#pragma once

#include "config.hpp"
#include "talker_id.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

nlohmann::json to_json(const TalkerId& who);  // {"id", "name"}

// The answer to a `talk` request: {granted, holder, reason?}.
struct TalkAnswer {
    bool granted = false;
    std::optional<TalkerId> holder;  // half mode: who holds the floor now
    std::string reason;              // why not, when refused
    nlohmann::json to_json() const;
};

// Whether a client may ask to talk at all in this mode, its role allowing it
// or not (AccessPolicy::may_talk); the reason when not.
std::optional<std::string> may_talk(AudioMode mode, bool role_allows);

class TalkFloor {
  public:
    TalkFloor(AudioMode mode, std::size_t max_talkers);

    // A new mode (reload). listen drops every talker; full to half keeps the
    // first talker as the holder. True when the talkers changed.
    bool set_mode(AudioMode mode, std::size_t max_talkers);

    // `talk {on}` from a client. `changed` tells whether the talkers changed.
    TalkAnswer request(const TalkerId& who, bool on, bool role_allows, bool& changed);
    // A client left, or lost the floor for silence. True when it was talking.
    bool remove(std::string_view id);

    // Whether audio from this client is played.
    bool may_play(std::string_view id) const;
    AudioMode mode() const { return mode_; }
    const std::vector<TalkerId>& talkers() const { return talkers_; }
    // Half mode: the floor holder (the one talker); null otherwise.
    const TalkerId* holder() const;
    // The `talk_state` payload: {talkers:[{id,name}], floor:{id,name}|null}.
    nlohmann::json state_json() const;

  private:
    AudioMode mode_;
    std::size_t max_talkers_;
    std::vector<TalkerId> talkers_;  // in the order they were granted
};

}  // namespace clubvoice
