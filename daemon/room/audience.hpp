// Who hears the room, and what they hear: every client of the room
// namespace gets the `audio` stream from the frame after it joins, except
// while it is muted (a floor holder under talk.mute_floor_holder). The one
// place that decides who hears room audio, and the one place the `audio`
// event is built. Thread: loop.
#pragma once

#include "audio_engine.hpp"
#include "sio_server.hpp"

#include <set>
#include <string>
#include <unordered_map>

namespace clubvoice {

class Audience {
  public:
    explicit Audience(SioServer& server) : server_(server) {}

    void join(SioSocket& socket);  // hears from the next frame on
    void leave(SioSocket& socket);
    // A muted member hears nothing; ids of non-members are remembered, so a
    // holder muted before it joined stays muted.
    void set_muted(const std::string& id, bool muted);

    // The `audio` event of one encoded frame, framed once for every member:
    // ["audio", {seq, t}, <Opus packet>].
    void publish(const EncodedFrame& frame);

  private:
    void update(const std::string& id);

    SioServer& server_;
    std::unordered_map<std::string, SioSocket*> members_;
    std::set<std::string> muted_;
};

}  // namespace clubvoice
