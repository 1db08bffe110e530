// Talking back: `talk` requests and the floor, and `mic` packets into each
// talker's jitter buffer. The talkers themselves belong to the TalkMixer,
// which plays them out on a thread of its own; every use of them here holds
// the mixer's lock. In a cluster the origin's TalkService is the room's: its
// floor and mixer also take the talkers of edges (the remote_* calls), and an
// edge's hands its clients' talk to a TalkRelay. Thread: loop.
#pragma once

#include "audience.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "room_events.hpp"
#include "sio_server.hpp"
#include "talk_floor.hpp"
#include "talk_mixer.hpp"
#include "talk_relay.hpp"
#include "uv_handles.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace clubvoice {

class TalkService {
  public:
    // `on_loud`: the room's ducking should follow this (on the loop).
    TalkService(uv_loop_t* loop, SioServer& server, const Config& config, Audience& audience,
                PlaybackOut out, std::function<void(bool loud)> on_loud);
    ~TalkService();
    TalkService(const TalkService&) = delete;
    TalkService& operator=(const TalkService&) = delete;

    // Events of the "/" namespace.
    // Their arguments are checked by the namespace before they get here.
    // `role_allows`: whether the client's role may talk (access.talk).
    void on_talk(SioSocket& socket, bool on, bool role_allows, const SioAck& ack);
    void on_mic(SioSocket& socket, const room::MicPacket& mic);
    void on_disconnect(SioSocket& socket);
    // An edge: this node's talk goes to the origin through `relay` (it
    // outlives the service's use of it).
    void set_relay(TalkRelay* relay) { relay_ = relay; }

    // The origin's side of a talker on an edge, by its client id: the same
    // floor and mixer as a local client's. remote_mic is true when the
    // talker floods (the edge should close it; it has left the floor here).
    TalkAnswer remote_talk(const TalkerId& who, bool on, bool role_allows);
    bool remote_mic(const std::string& id, const room::MicPacket& mic);
    void remote_leave(const std::string& id);
    // Told every new talk_state (the origin passes it on to the edges).
    void on_state(std::function<void(const nlohmann::json& state)> listener) {
        state_listener_ = std::move(listener);
    }
    nlohmann::json state_json() const { return floor_.state_json(); }
    // The configuration changed (reload): mode, limits, jitter settings.
    void apply();
    // The mixer thread: started once the playback ring exists, stopped before it goes.
    void start_mixer();
    void stop_mixer() { mixer_.stop(); }
    // Held while what PlaybackOut reaches is replaced (an audio engine restart).
    std::unique_lock<std::mutex> pause_output() { return mixer_.lock(); }

    // Loudest talker now, in dBFS (for the `levels` event).
    float mic_level_dbfs() const;
    // What the talk path counts, read under the mixer's lock.
    struct Figures {
        std::size_t talkers = 0;
        bool floor_held = false, room_ducked = false, mixer_realtime = false;
        int jitter_depth_ms = 0;  // the deepest talker's
        std::uint64_t mic_packets = 0, mic_refused = 0, mic_dropped = 0, over_budget = 0;
        std::uint64_t floods = 0, floor_timeouts = 0;
        JitterCounters jitter;  // of every talker, gone or here
        TalkMixer::Figures mixer;
    };
    Figures figures() const;
    // The figures under clubvoice_talk_*, _mic_*, _floor_* (/status: "talk").
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics
    // /status "talk": the mode and settings in force, the talkers, the figures.
    nlohmann::json status_json() const;

  private:
    TalkAnswer take(const TalkerId& who, bool on, bool role_allows);
    // The packet filed into its talker's buffer; nullopt when refused.
    std::optional<Talker::Arrival> file(const std::string& id, const room::MicPacket& mic);
    void leave(const std::string& id);
    void broadcast_state();
    // Re-subscribes a muted old holder, mutes a new one, broadcasts talk_state.
    void floor_changed(const std::optional<TalkerId>& old_holder);
    // A copy: the floor's own entry goes when the holder is removed.
    std::optional<TalkerId> holder_copy() const;
    void release(std::string id, std::string_view why);  // by value: ids live in floor_
    void start_housekeeping();
    void housekeeping();
    TalkMixer::Settings mixer_settings() const;
    void fold_counters(const Talker& talker);
    void close_flooder(SioSocket& socket);
    Talker* talker(const std::string& id);  // under the mixer's lock

    uv_loop_t* loop_;
    SioServer& server_;
    const Config& config_;
    Audience& audience_;
    TalkFloor floor_;
    TalkMixer mixer_;
    TalkRelay* relay_ = nullptr;
    std::function<void(const nlohmann::json&)> state_listener_;
    UvTimer housekeeping_;

    struct Counters {
        std::uint64_t mic_packets = 0;     // accepted into a jitter buffer
        std::uint64_t mic_refused = 0;     // from clients not allowed to talk now
        std::uint64_t mic_dropped = 0;     // late, duplicate, too far ahead
        std::uint64_t over_budget = 0;     // faster than real time
        std::uint64_t floods = 0;          // clients closed for flooding
        std::uint64_t floor_timeouts = 0;  // holders released for silence
        JitterCounters jitter;             // of talkers gone
    } counters_;
};

}  // namespace clubvoice
