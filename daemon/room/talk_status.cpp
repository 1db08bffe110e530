// TalkService's figures for /status and /metrics: one table, both places.
#include "talk_service.hpp"

#include <algorithm>
#include <limits>

namespace clubvoice {
namespace {

using F = TalkService::Figures;
// A delay not measured yet is NaN: null in /status, NaN in /metrics.
double ms_or_nan(double ms) {
    return ms < 0 ? std::numeric_limits<double>::quiet_NaN() : ms;
}

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_talkers", MetricType::gauge, "", "/talk/talker_count",
      "Clients whose voice is played into the room."},
     [](const F& f) { return static_cast<double>(f.talkers); }},
    {{"clubvoice_floor_held", MetricType::gauge, "bool", "/talk/floor_held",
      "1 while a half-mode floor holder talks."},
     [](const F& f) { return f.floor_held ? 1.0 : 0.0; }},
    {{"clubvoice_room_ducked", MetricType::gauge, "bool", "/talk/room_ducked",
      "1 while a talker is loud enough to duck the room (ducking.room)."},
     [](const F& f) { return f.room_ducked ? 1.0 : 0.0; }},
    {{"clubvoice_jitter_depth_ms", MetricType::gauge, "ms", "/talk/jitter_depth_ms",
      "Deepest talker jitter buffer now, in ms."},
     [](const F& f) { return static_cast<double>(f.jitter_depth_ms); }},
    // Mic packets as they arrive.
    {{"clubvoice_mic_packets_total", MetricType::counter, "", "/talk/mic_packets",
      "Mic packets taken into a jitter buffer."},
     [](const F& f) { return as_metric(f.mic_packets); }},
    {{"clubvoice_mic_refused_total", MetricType::counter, "", "/talk/mic_refused",
      "Mic packets from clients not allowed to talk now (dropped)."},
     [](const F& f) { return as_metric(f.mic_refused); }},
    {{"clubvoice_mic_dropped_total", MetricType::counter, "", "/talk/mic_dropped",
      "Mic packets a jitter buffer turned away (late, duplicate or too far ahead)."},
     [](const F& f) { return as_metric(f.mic_dropped); }},
    {{"clubvoice_mic_over_budget_total", MetricType::counter, "", "/talk/mic_over_budget",
      "Mic packets dropped for arriving faster than real time."},
     [](const F& f) { return as_metric(f.over_budget); }},
    {{"clubvoice_talk_disconnects_total", MetricType::counter, "", "/talk/flood_disconnects",
      "Clients closed for sending mic audio faster than real time."},
     [](const F& f) { return as_metric(f.floods); }},
    {{"clubvoice_floor_timeouts_total", MetricType::counter, "", "/talk/floor_timeouts",
      "Floor holders released for silence."},
     [](const F& f) { return as_metric(f.floor_timeouts); }},
    // The jitter buffers, over every talker.
    {{"clubvoice_mic_received_total", MetricType::counter, "", "/talk/jitter/received",
      "Mic packets the jitter buffers accepted."},
     [](const F& f) { return as_metric(f.jitter.received); }},
    {{"clubvoice_mic_late_total", MetricType::counter, "", "/talk/jitter/late",
      "Mic packets that arrived after their turn to play."},
     [](const F& f) { return as_metric(f.jitter.late); }},
    {{"clubvoice_mic_duplicates_total", MetricType::counter, "", "/talk/jitter/duplicates",
      "Mic packets for a slot already filled (dropped)."},
     [](const F& f) { return as_metric(f.jitter.duplicates); }},
    {{"clubvoice_mic_too_far_ahead_total", MetricType::counter, "", "/talk/jitter/too_far_ahead",
      "Mic packets too far ahead of the playout point (dropped)."},
     [](const F& f) { return as_metric(f.jitter.too_far_ahead); }},
    {{"clubvoice_mic_lost_total", MetricType::counter, "", "/talk/jitter/lost",
      "Mic frames missing when due."},
     [](const F& f) { return as_metric(f.jitter.lost); }},
    {{"clubvoice_mic_fec_recovered_total", MetricType::counter, "", "/talk/jitter/fec_recovered",
      "Missing mic frames rebuilt from the next packet's FEC data."},
     [](const F& f) { return as_metric(f.jitter.fec_recovered); }},
    {{"clubvoice_mic_concealed_total", MetricType::counter, "", "/talk/jitter/concealed",
      "Missing mic frames concealed by Opus PLC."},
     [](const F& f) { return as_metric(f.jitter.concealed); }},
    {{"clubvoice_mic_underruns_total", MetricType::counter, "", "/talk/jitter/underruns",
      "Mic frames concealed because a talker's packets ran late (not lost)."},
     [](const F& f) { return as_metric(f.jitter.underruns); }},
    {{"clubvoice_mic_overflow_dropped_total", MetricType::counter, "",
      "/talk/jitter/overflow_dropped",
      "Mic frames dropped to keep a talker's delay within talk.jitter_max_ms."},
     [](const F& f) { return as_metric(f.jitter.overflow_dropped); }},
    {{"clubvoice_mic_decode_errors_total", MetricType::counter, "", "/talk/jitter/decode_errors",
      "Corrupt mic packets (their frame is concealed)."},
     [](const F& f) { return as_metric(f.jitter.decode_errors); }},
    {{"clubvoice_talk_streams_total", MetricType::counter, "", "/talk/jitter/streams",
      "Talker streams started (talk turns, reconnects)."},
     [](const F& f) { return as_metric(f.jitter.streams); }},
    // The mixer thread.
    {{"clubvoice_mic_to_ring_ms", MetricType::gauge, "ms", "/talk/mic_to_ring_ms/last",
      "Delay from a mic packet's arrival to its samples entering the playback ring (last)."},
     [](const F& f) { return ms_or_nan(f.mixer.mic_to_ring_last_ms); }},
    {{"clubvoice_mic_to_ring_avg_ms", MetricType::gauge, "ms", "/talk/mic_to_ring_ms/avg",
      "The same delay, averaged."},
     [](const F& f) { return ms_or_nan(f.mixer.mic_to_ring_avg_ms); }},
    {{"clubvoice_mic_to_ring_max_ms", MetricType::gauge, "ms", "/talk/mic_to_ring_ms/max",
      "The same delay, the longest seen."},
     [](const F& f) { return ms_or_nan(f.mixer.mic_to_ring_max_ms); }},
    {{"clubvoice_talk_ring_drops_total", MetricType::counter, "", "/talk/ring_drops",
      "Mixed talker samples the playback ring had no room for."},
     [](const F& f) { return as_metric(f.mixer.ring_drops); }},
    {{"clubvoice_talk_limiter_reduction_db", MetricType::gauge, "dB", "/talk/limiter_reduction_db",
      "Gain reduction the talkers' limiter applies now, in dB."},
     [](const F& f) { return static_cast<double>(f.mixer.limiter_reduction_db); }},
    {{"clubvoice_talk_mixer_realtime", MetricType::gauge, "bool", "/talk/mixer/realtime",
      "1 while the talk mixer runs at SCHED_FIFO."},
     [](const F& f) { return f.mixer_realtime ? 1.0 : 0.0; }},
    {{"clubvoice_talk_mixer_ticks_total", MetricType::counter, "", "/talk/mixer/ticks",
      "Mixing steps the talk mixer has run."},
     [](const F& f) { return as_metric(f.mixer.ticks); }},
    {{"clubvoice_talk_mixer_busy_skips_total", MetricType::counter, "", "/talk/mixer/busy_skips",
      "Mixer ticks skipped because the loop held the talkers (the next tick catches up)."},
     [](const F& f) { return as_metric(f.mixer.busy_skips); }},
    {{"clubvoice_talk_mixer_late_ticks_total", MetricType::counter, "", "/talk/mixer/late_ticks",
      "Mixer ticks that woke more than a tick late."},
     [](const F& f) { return as_metric(f.mixer.late_ticks); }},
    {{"clubvoice_talk_mixer_longest_tick_ms", MetricType::gauge, "ms",
      "/talk/mixer/longest_tick_ms", "The longest mixing step, in ms."},
     [](const F& f) { return static_cast<double>(f.mixer.longest_tick_ns) / 1e6; }},
});

}  // namespace

TalkService::Figures TalkService::figures() const {
    auto lock = mixer_.lock();
    Figures f;
    f.talkers = floor_.talkers().size();
    f.floor_held = floor_.holder() != nullptr;
    f.room_ducked = mixer_.loud();
    f.mixer_realtime = mixer_.thread().realtime();
    f.mic_packets = counters_.mic_packets;
    f.mic_refused = counters_.mic_refused;
    f.mic_dropped = counters_.mic_dropped;
    f.over_budget = counters_.over_budget;
    f.floods = counters_.floods;
    f.floor_timeouts = counters_.floor_timeouts;
    f.jitter = counters_.jitter;
    for (const auto& [id, t] : mixer_.talkers()) {
        f.jitter += t->jitter().counters();
        f.jitter_depth_ms = std::max(f.jitter_depth_ms, t->jitter().depth_ms());
    }
    f.mixer = mixer_.figures();
    return f;
}

void TalkService::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void TalkService::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

nlohmann::json TalkService::status_json() const {
    nlohmann::json talkers = nlohmann::json::array();
    {
        auto lock = mixer_.lock();
        for (const auto& [id, t] : mixer_.talkers()) {
            talkers.push_back({{"id", id},
                               {"name", t->who().name},
                               {"playing", t->jitter().playing()},
                               {"releasing", t->releasing},
                               {"level_dbfs", t->level_dbfs()},
                               {"jitter_depth_ms", t->jitter().depth_ms()}});
        }
    }
    const TalkerId* holder = floor_.holder();
    nlohmann::json doc = {{"talk",
                           {{"mode", to_string(floor_.mode())},
                            // The talk.* settings in force (a reload changes them).
                            {"max_talkers", config_.talk.max_talkers},
                            {"mute_floor_holder", config_.talk.mute_floor_holder},
                            {"jitter_target_ms", config_.talk.jitter_target_ms},
                            {"talkers", std::move(talkers)},
                            {"floor", holder ? to_json(*holder) : nlohmann::json()}}}};
    StatusWriter writer(doc);
    report(writer);
    return std::move(doc["talk"]);
}

}  // namespace clubvoice
