// An edge's talkers (cluster.role: edge): the origin decides and mixes, this
// node relays. A `talk` request goes to the origin on the room's bounded list
// (talk_message.hpp) and its ack waits for the origin's answer on the talk
// channel (2 s at most, then it is refused with a reason); the `mic` packets
// of a client the origin granted follow on the same list; a departure is
// told. Each second the edge says it is alive: an edge that stops (crashed,
// or cut from Redis) loses its talkers and any floor at the origin within
// 3 s. The origin's talk_state is passed on to this node's clients, and a
// floor holder here is muted as talk.mute_floor_holder says. Thread: loop.
#pragma once

#include "audience.hpp"
#include "cluster_link.hpp"
#include "cluster_talk_figures.hpp"
#include "config.hpp"
#include "talk_message.hpp"
#include "talk_relay.hpp"
#include "uv_handles.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace clubvoice {

class EdgeTalk final : public TalkRelay {
  public:
    EdgeTalk(uv_loop_t* loop, const Config& config, SioServer& server, Audience& audience,
             ClusterLink& link);
    ~EdgeTalk() override;
    EdgeTalk(const EdgeTalk&) = delete;
    EdgeTalk& operator=(const EdgeTalk&) = delete;

    void talk(SioSocket& socket, bool on, bool role_allows, const SioAck& ack) override;
    void mic(SioSocket& socket, const room::MicPacket& mic) override;
    void left(SioSocket& socket) override;
    void stop();

    ClusterTalkFigures figures() const;

  private:
    struct Pending {
        SioAck ack;
        std::string id;
        SioSocket* socket = nullptr;
        bool on = false;
        std::uint64_t deadline_ms = 0;
    };
    void on_message(std::string_view message);
    void answer(std::uint64_t req, const nlohmann::json& answer);
    void state(const nlohmann::json& state);
    TalkIn about(TalkIn::Kind kind, const std::string& id) const;  // from this node
    bool send(const TalkIn& message);
    void let_go(const std::string& id);  // unmutes, forgets
    void apply_mute();
    void tick();  // alive, and requests the origin has not answered

    uv_loop_t* loop_;
    const Config& config_;
    SioServer& server_;
    Audience& audience_;
    ClusterLink& link_;
    const std::string list_;
    std::string message_;  // reused for every packet
    std::uint64_t next_req_ = 1;
    std::map<std::uint64_t, Pending> pending_;
    std::map<std::string, SioSocket*, std::less<>> talkers_;  // granted by the origin
    std::string muted_;  // this node's client holding the floor, muted
    std::uint64_t ticks_ = 0;
    nlohmann::json last_state_;  // the origin's talk_state, as passed on
    bool stopped_ = false;
    ClusterTalkFigures counters_;
    UvTimer timer_;
};

}  // namespace clubvoice
