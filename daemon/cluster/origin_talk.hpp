// The origin's side of talkers on edges (cluster.role: origin): it reads the
// room's list (talk_message.hpp) on a connection of its own, with BLPOP, and
// hands each request, packet and departure to the room's TalkService, whose
// floor and mixer are the whole cluster's: in `half` mode two talkers on two
// edges never both hold the floor. Answers, closes and every talk_state go
// back on the room's talk channel (the state also every 2 s, for edges that
// start later). An edge silent for 3 s (crashed, or cut from Redis) loses
// its talkers here, and with them any floor. The list is emptied when the
// origin connects: what waited there is too old to play. Redis is trusted as
// the configuration is (any node of the room may speak for its own clients).
// Thread: loop.
#pragma once

#include "cluster_link.hpp"
#include "cluster_talk_figures.hpp"
#include "config.hpp"
#include "redis_connection.hpp"
#include "talk_message.hpp"
#include "talk_service.hpp"
#include "uv_handles.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace clubvoice {

class OriginTalk {
  public:
    OriginTalk(uv_loop_t* loop, const Config& config, TalkService& talk, ClusterLink& link);
    ~OriginTalk();
    OriginTalk(const OriginTalk&) = delete;
    OriginTalk& operator=(const OriginTalk&) = delete;

    void stop();
    ClusterTalkFigures figures() const;

  private:
    void pop();  // the next messages off the list
    void take(const redisReply* reply);
    void on_message(std::string_view message);
    void publish(const TalkOut& message);
    void tick();  // edges gone silent; the state repeated
    void forget_released(const nlohmann::json& state);

    uv_loop_t* loop_;
    TalkService& talk_;
    ClusterLink& link_;
    const std::string list_;
    const std::string channel_;
    std::unique_ptr<RedisConnection> reader_;
    std::map<std::string, std::uint64_t> seen_ms_;  // each edge's last message (uv_now)
    std::map<std::string, std::string> owners_;     // a remote talker's edge
    std::uint64_t ticks_ = 0;
    bool stopped_ = false;
    ClusterTalkFigures counters_;
    UvTimer timer_;
};

}  // namespace clubvoice
