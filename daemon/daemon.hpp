// The running daemon: owns the loop and everything on it, handles signals,
// reloads and the orderly stop. Thread: loop.
#pragma once

#include "access_policy.hpp"
#include "audio_engine.hpp"
#include "cluster_link.hpp"
#include "config.hpp"
#include "edge_talk.hpp"
#include "http_responder.hpp"
#include "http_routes.hpp"
#include "http_stream.hpp"
#include "icecast_source.hpp"
#include "loop_monitor.hpp"
#include "music_ducking.hpp"
#include "origin_talk.hpp"
#include "recorder.hpp"
#include "room_namespace.hpp"
#include "sio_server.hpp"
#include "systemd_notifier.hpp"
#include "talk_service.hpp"
#include "uv_handles.hpp"
#include "web_server.hpp"

#include <memory>
#include <string>
#include <vector>

namespace clubvoice {

class Daemon {
  public:
    Daemon(std::string config_path, Config config, int verbosity);

    // Serves until SIGTERM/SIGINT. Throws std::runtime_error when start-up
    // fails (the message is one line naming what failed).
    void run();

  private:
    void apply_log_level();
    void reload();
    ClusterTalkFigures cluster_talk_figures() const;
    // One encoded frame (the audio engine's, or on an edge the origin's) to
    // everyone who takes the room: listeners, players, files, Icecast, Redis.
    void publish_frame(const EncodedFrame& frame, int channels);
    void stop();
    SioOptions sio_options() const;
    std::vector<IpNetwork> trusted_proxies() const;
    std::int64_t frame_ns() const;  // the budget a loop pass is measured against
    StatusSources status_sources();
    bool alive();

    std::string config_path_;
    int verbosity_;
    Config config_;
    AccessPolicy access_;  // from config_.access; replaced on reload

    // Declared first so it is destroyed last: every handle below lives on it.
    UvLoop loop_;
    HttpRoutes routes_;
    SystemdNotifier notifier_;
    HttpResponder responder_;
    std::unique_ptr<SioServer> sio_;
    std::unique_ptr<Audience> audience_;
    // /stream.opus; outlives web_, whose connections call into it while closing.
    std::unique_ptr<HttpStream> stream_;
    // record.*: the same packets to files, through its writer thread.
    std::unique_ptr<Recorder> recorder_;
    std::unique_ptr<IcecastSource> icecast_;
    std::unique_ptr<ClusterLink> cluster_;
    std::unique_ptr<TalkService> talk_;
    std::unique_ptr<MusicDucking> music_;
    std::unique_ptr<RoomNamespace> room_;
    // After talk_ and cluster_, which they use; stopped before cluster_.
    std::unique_ptr<EdgeTalk> edge_talk_;
    std::unique_ptr<OriginTalk> origin_talk_;
    std::unique_ptr<AudioEngine> audio_;
    std::unique_ptr<LoopMonitor> loop_monitor_;
    std::uint64_t last_heartbeat_ = 0;
    // Destroyed first: its connections call into the servers above while closing.
    std::unique_ptr<WebServer> web_;
    UvSignal sigterm_;
    UvSignal sigint_;
    UvSignal sighup_;
    bool stopping_ = false;
};

// Every figure the daemon exports, described (values are zero): what
// `clubvoiced --list-metrics` prints.
void describe_metrics(MetricWriter& out);

}  // namespace clubvoice
