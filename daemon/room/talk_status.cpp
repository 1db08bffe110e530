// TalkService's figures for /status and /metrics.
#include "prometheus.hpp"
#include "talk_service.hpp"

namespace clubvoice {
namespace {

// Jitter-buffer counters of the talkers gone plus those still here.
template <typename Talkers>
JitterCounters jitter_totals(JitterCounters sum, const Talkers& talkers) {
    for (const auto& [id, t] : talkers) sum += t->jitter().counters();
    return sum;
}

nlohmann::json ms_or_null(double ms) {
    return ms < 0 ? nlohmann::json() : nlohmann::json(ms);
}

}  // namespace

nlohmann::json TalkService::status_json() const {
    auto lock = mixer_.lock();
    const TalkMixer::Figures mixer = mixer_.figures();
    nlohmann::json talkers = nlohmann::json::array();
    for (const auto& [id, t] : mixer_.talkers()) {
        talkers.push_back({{"id", id},
                           {"name", t->who().name},
                           {"playing", t->jitter().playing()},
                           {"releasing", t->releasing},
                           {"level_dbfs", t->level_dbfs()},
                           {"jitter_depth_ms", t->jitter().depth_ms()}});
    }
    const TalkerId* holder = floor_.holder();
    const JitterCounters j = jitter_totals(counters_.jitter, mixer_.talkers());
    return {
        {"mode", to_string(floor_.mode())},
        // The talk.* settings in force (a reload changes them).
        {"max_talkers", config_.talk.max_talkers},
        {"mute_floor_holder", config_.talk.mute_floor_holder},
        {"jitter_target_ms", config_.talk.jitter_target_ms},
        {"talkers", std::move(talkers)},
        {"floor", holder ? to_json(*holder) : nlohmann::json()},
        {"mic_packets", counters_.mic_packets},
        {"mic_refused", counters_.mic_refused},
        {"mic_dropped", counters_.mic_dropped},
        {"mic_over_budget", counters_.over_budget},
        {"flood_disconnects", counters_.floods},
        {"floor_timeouts", counters_.floor_timeouts},
        {"jitter",
         {{"received", j.received},
          {"late", j.late},
          {"duplicates", j.duplicates},
          {"too_far_ahead", j.too_far_ahead},
          {"lost", j.lost},
          {"fec_recovered", j.fec_recovered},
          {"concealed", j.concealed},
          {"underruns", j.underruns},
          {"overflow_dropped", j.overflow_dropped},
          {"decode_errors", j.decode_errors},
          {"streams", j.streams}}},
        {"mic_to_ring_ms",
         {{"last", ms_or_null(mixer.mic_to_ring_last_ms)},
          {"avg", ms_or_null(mixer.mic_to_ring_avg_ms)},
          {"max", ms_or_null(mixer.mic_to_ring_max_ms)}}},
        {"ring_drops", mixer.ring_drops},
        {"limiter_reduction_db", mixer.limiter_reduction_db},
        {"room_ducked", mixer_.loud()},
        {"mixer",
         {{"realtime", mixer_.thread().realtime()},
          {"ticks", mixer.ticks},
          {"busy_skips", mixer.busy_skips},
          {"late_ticks", mixer.late_ticks},
          {"longest_tick_ms", static_cast<double>(mixer.longest_tick_ns) / 1e6}}},
    };
}

void TalkService::append_metrics(std::string& out) const {
    auto n = [](auto v) { return static_cast<double>(v); };
    auto counter = [&out](std::string_view name, std::string_view help, double v) {
        append_metric(out, name, MetricType::counter, help, v);
    };
    auto gauge = [&out](std::string_view name, std::string_view help, double v) {
        append_metric(out, name, MetricType::gauge, help, v);
    };
    auto lock = mixer_.lock();
    const auto& talkers = mixer_.talkers();
    const TalkMixer::Figures mixer = mixer_.figures();
    const JitterCounters j = jitter_totals(counters_.jitter, talkers);
    int depth = 0;
    for (const auto& [id, t] : talkers) depth = std::max(depth, t->jitter().depth_ms());
    gauge("clubvoice_talkers", "Clients whose voice is played into the room.",
          n(floor_.talkers().size()));
    gauge("clubvoice_floor_held", "1 while a half-mode floor holder talks.",
          floor_.holder() ? 1.0 : 0.0);
    gauge("clubvoice_jitter_depth_ms", "Deepest talker jitter buffer now, in ms.", n(depth));
    gauge("clubvoice_mic_to_ring_ms",
          "Delay from a mic packet's arrival to its samples entering the playback ring (last).",
          mixer.mic_to_ring_last_ms < 0 ? 0.0 : mixer.mic_to_ring_last_ms);
    counter("clubvoice_talk_ring_drops_total",
            "Mixed talker samples the playback ring had no room for.", n(mixer.ring_drops));
    counter("clubvoice_talk_mixer_busy_skips_total",
            "Mixer ticks skipped because the loop held the talkers (the next tick catches up).",
            n(mixer.busy_skips));
    counter("clubvoice_talk_mixer_late_ticks_total", "Mixer ticks that woke more than a tick late.",
            n(mixer.late_ticks));
    counter("clubvoice_mic_packets_total", "Mic packets taken into a jitter buffer.",
            n(counters_.mic_packets));
    counter("clubvoice_mic_refused_total",
            "Mic packets from clients not allowed to talk now (dropped).",
            n(counters_.mic_refused));
    counter("clubvoice_mic_over_budget_total",
            "Mic packets dropped for arriving faster than real time.", n(counters_.over_budget));
    counter("clubvoice_mic_late_total", "Mic packets that arrived after their turn to play.",
            n(j.late));
    counter("clubvoice_mic_lost_total", "Mic frames missing when due.", n(j.lost));
    counter("clubvoice_mic_fec_recovered_total",
            "Missing mic frames rebuilt from the next packet's FEC data.", n(j.fec_recovered));
    counter("clubvoice_mic_concealed_total", "Missing mic frames concealed by Opus PLC.",
            n(j.concealed));
    counter("clubvoice_mic_underruns_total",
            "Mic frames concealed because a talker's packets ran late (not lost).", n(j.underruns));
    counter("clubvoice_mic_overflow_dropped_total",
            "Mic frames dropped to keep a talker's delay within talk.jitter_max_ms.",
            n(j.overflow_dropped));
    counter("clubvoice_talk_disconnects_total",
            "Clients closed for sending mic audio faster than real time.", n(counters_.floods));
    counter("clubvoice_floor_timeouts_total", "Floor holders released for silence.",
            n(counters_.floor_timeouts));
}

}  // namespace clubvoice
