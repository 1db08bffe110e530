// cluster.*: one room on many boxes, through Redis pub/sub (the engine the
// Socket.IO ecosystem scales with; no clustering of our own). The origin
// (the box with the sound card) publishes every encoded frame once to the
// room's channel, "clubvoice:<room>:audio" (ClusterFrame). An edge (no sound
// card) subscribes and hands each frame to the same sink the origin's audio
// engine feeds, so its listeners get the very `audio` events and Ogg pages.
//
// The room's `clients` count is the cluster's: every second each node
// writes its own count into the hash clubvoice:<room>:clients (with Redis'
// clock, so nodes' clocks do not matter) and reads back the sum of the
// entries written in the last 5 s (a dead node's entry drops out), in one
// script, atomically.
//
// Failure: Redis away is a problem the daemon reports and rides out. The
// origin keeps serving its own listeners (frames meanwhile are not queued:
// a live stream); an edge reports itself down (/health 503) while Redis or
// the origin's frames are missing, and resumes by itself, counting the
// frames it missed. Thread: loop.
#pragma once

#include "audio_engine.hpp"  // EncodedFrame
#include "config.hpp"
#include "metrics.hpp"
#include "redis_connection.hpp"
#include "uv_handles.hpp"

#include <uv.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace clubvoice {

class ClusterLink {
  public:
    // An edge's frames, as the audio engine hands the origin's out.
    using FrameSink = std::function<void(const EncodedFrame& frame, int channels)>;

    // Connects as the configuration's cluster.role says (nothing for
    // standalone). `config` is the daemon's live one.
    ClusterLink(uv_loop_t* loop, const Config& config, FrameSink sink);
    ~ClusterLink();
    ClusterLink(const ClusterLink&) = delete;
    ClusterLink& operator=(const ClusterLink&) = delete;

    ClusterRole role() const { return role_; }
    // Where the room's client counts come from and go: this node's count,
    // and what the other nodes count (0 while Redis is away).
    void set_clients(std::function<std::size_t()> local, std::function<void(std::size_t)> remote);
    // The origin: one frame, published to the room's channel.
    void publish(const EncodedFrame& frame, int channels);
    // The talk of a cluster (OriginTalk, EdgeTalk) goes over the link's
    // connections: commands (null while standalone), this node's id, and an
    // edge's messages on the room's talk channel.
    RedisConnection* commands() { return commands_.get(); }
    const std::string& node() const { return node_; }
    void on_talk_message(std::function<void(std::string_view)> handler) {
        talk_handler_ = std::move(handler);
    }
    // Closes the Redis connections, for shutdown.
    void stop();

    // "up", or what is missing: Redis, or (on an edge) the origin's frames.
    bool up() const;
    std::string problem() const;

    struct Figures {
        bool redis_up = false;
        bool stream_up = false;  // an edge has the origin's frames
        std::uint64_t published = 0, publish_dropped = 0, received = 0, missed = 0;
        std::uint64_t invalid = 0, mismatched = 0, origin_restarts = 0, redis_losses = 0;
        std::uint64_t room_clients = 0;  // the whole cluster's, as last counted
    };
    Figures figures() const;
    // clubvoice_cluster_* (/status: "cluster", with the role and the problem).
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);
    void report_status(nlohmann::json& status) const;

  private:
    void on_message(const redisReply* reply);
    void on_frame(std::string_view message);
    void watch();  // an edge: notices the origin's frames stopping
    void count_clients();
    RedisConnection::Events events_for(std::string_view which);

    uv_loop_t* loop_;
    const Config& config_;
    const ClusterRole role_;
    const std::string channel_;
    const std::string talk_channel_;
    std::function<void(std::string_view)> talk_handler_;
    FrameSink sink_;
    const std::string node_;                       // this daemon's entry in the clients hash
    std::unique_ptr<RedisConnection> commands_;    // publishing (origin), counting (both)
    std::unique_ptr<RedisConnection> subscriber_;  // an edge's subscription to the frames
    std::function<std::size_t()> local_clients_;
    std::function<void(std::size_t)> remote_clients_;
    std::string message_;  // the origin's reused buffer
    bool have_seq_ = false;
    std::uint64_t last_seq_ = 0;
    std::uint64_t last_frame_ms_ = 0;  // uv_now of the last frame (edge)
    bool stream_up_ = false;
    bool mismatch_logged_ = false;
    bool stopped_ = false;
    Figures counters_;
    UvTimer watch_timer_;
    UvTimer count_timer_;
};

}  // namespace clubvoice
