// Talking back: `talk` requests and the floor, `mic` packets into each
// talker's jitter buffer, and the mixer that sums the talkers at playback
// pace into the playback ring.
//
// The mixer runs on a short timer only while someone has audio: each tick it
// tops the playback ring up to a small target (two ALSA periods), never more
// than the time elapsed allows, so the delay cannot grow and nobody talking
// means the audio thread plays silence. Thread: loop.
#pragma once

#include "config.hpp"
#include "dsp/limiter.hpp"
#include "sio_server.hpp"
#include "talk_floor.hpp"
#include "talker.hpp"
#include "uv_handles.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace clubvoice {

// Where the mix goes: the playback ring of the audio engine.
struct PlaybackOut {
    std::function<std::size_t()> queued;               // samples waiting to be played
    std::function<bool(std::span<const float>)> play;  // false: dropped (ring full)
    std::function<void(bool loud)> talkers_loud;       // room ducking follows this
};

class TalkService {
  public:
    TalkService(uv_loop_t* loop, SioServer& server, const Config& config, PlaybackOut out);
    ~TalkService();
    TalkService(const TalkService&) = delete;
    TalkService& operator=(const TalkService&) = delete;

    // Events of the "/" namespace.
    void on_talk(SioSocket& socket, const nlohmann::json& args, const SioAck& ack);
    void on_mic(SioSocket& socket, const nlohmann::json& args);
    void on_disconnect(SioSocket& socket);
    // The configuration changed (reload): mode, limits, jitter settings.
    void apply();

    // Loudest talker now, in dBFS (for the `levels` event).
    float mic_level_dbfs() const;
    nlohmann::json status_json() const;
    void append_metrics(std::string& out) const;

  private:
    void broadcast_state();
    // Re-subscribes a muted old holder, mutes a new one, broadcasts talk_state.
    void floor_changed(const std::optional<TalkerId>& old_holder);
    // A copy: the floor's own entry goes when the holder is removed.
    std::optional<TalkerId> holder_copy() const;
    void release(std::string id, std::string_view why);  // by value: ids live in floor_
    void start_mixer();
    void start_housekeeping();
    void mix_tick();
    void housekeeping();
    void fold_counters(const Talker& talker);
    void close_client(SioSocket& socket, std::string_view problem, bool flood = false);
    Talker* talker(const std::string& id);
    std::int64_t now_ns() const;

    uv_loop_t* loop_;
    SioServer& server_;
    const Config& config_;
    PlaybackOut out_;
    TalkFloor floor_;
    dsp::Limiter limiter_;

    std::map<std::string, std::unique_ptr<Talker>> talkers_;  // by socket id
    std::map<std::string, SioSocket*> sockets_;               // of the talkers, while connected
    UvTimer mixer_;
    UvTimer housekeeping_;
    std::int64_t last_mix_ns_ = 0;
    bool loud_ = false;
    std::vector<float> mix_;
    std::vector<float> scratch_;

    struct Counters {
        std::uint64_t mic_packets = 0;     // accepted into a jitter buffer
        std::uint64_t mic_refused = 0;     // from clients not allowed to talk now
        std::uint64_t mic_dropped = 0;     // late, duplicate, too far ahead
        std::uint64_t over_budget = 0;     // faster than real time
        std::uint64_t invalid = 0;         // clients closed for a bad mic packet
        std::uint64_t floods = 0;          // clients closed for flooding
        std::uint64_t floor_timeouts = 0;  // holders released for silence
        std::uint64_t ring_drops = 0;      // mixed samples the playback ring refused
        JitterCounters jitter;             // of talkers gone
    } counters_;
    struct Delay {
        double last_ms = -1.0, avg_ms = -1.0, max_ms = -1.0;
        void add(double ms);
    } mic_to_ring_;
};

}  // namespace clubvoice
