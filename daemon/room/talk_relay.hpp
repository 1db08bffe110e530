// Where an edge's talk goes (cluster.role: edge): the floor and the mixer are
// the origin's, so the `talk` requests, `mic` packets and departures of this
// node's clients are handed over instead of decided here. The relay answers
// each request's ack itself, once the origin has. Thread: loop.
#pragma once

#include "room_events.hpp"
#include "sio_server.hpp"

namespace clubvoice {

class TalkRelay {
  public:
    virtual ~TalkRelay() = default;
    // The checked events of a client of this node, and its departure.
    virtual void talk(SioSocket& socket, bool on, bool role_allows, const SioAck& ack) = 0;
    virtual void mic(SioSocket& socket, const room::MicPacket& mic) = 0;
    virtual void left(SioSocket& socket) = 0;
};

}  // namespace clubvoice
