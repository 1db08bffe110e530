#include "talk_service.hpp"

#include "dsp/level_meter.hpp"
#include "log.hpp"
#include "opus_packet_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace clubvoice {
namespace {

constexpr int kMinPacketMs = 10;
constexpr int kMaxPacketMs = 60;
constexpr std::size_t kMaxPacketBytes = 4000;  // 60 ms at Opus' highest rate, with room
constexpr std::size_t kMaxMixSamples = 48 * 400;

JitterSettings jitter_settings(const Config& config) {
    return {config.talk.jitter_target_ms, config.talk.jitter_max_ms};
}

std::string name_of(const nlohmann::json& auth) {
    auto it = auth.find("name");
    if (it == auth.end() || !it->is_string()) return {};
    std::string name = it->get<std::string>();
    if (name.size() > 64) name.resize(64);  // shown to everyone; keep it a name
    return name;
}

std::string describe(const TalkerId& who) {
    return who.name.empty() ? who.id : fmt::format("{} ({})", who.id, who.name);
}

}  // namespace

void TalkService::Delay::add(double ms) {
    last_ms = ms;
    avg_ms = avg_ms < 0 ? ms : avg_ms + 0.05 * (ms - avg_ms);
    max_ms = std::max(max_ms, ms);
}

TalkService::TalkService(uv_loop_t* loop, SioServer& server, const Config& config, PlaybackOut out)
    : loop_(loop),
      server_(server),
      config_(config),
      out_(std::move(out)),
      floor_(config.audio.mode, static_cast<std::size_t>(config.talk.max_talkers)),
      mix_(kMaxMixSamples),
      scratch_(kMaxMixSamples) {}

TalkService::~TalkService() = default;

std::int64_t TalkService::now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

Talker* TalkService::talker(const std::string& id) {
    auto it = talkers_.find(id);
    return it == talkers_.end() ? nullptr : it->second.get();
}

void TalkService::on_talk(SioSocket& socket, const nlohmann::json& args, const SioAck& ack) {
    const nlohmann::json* request = args.empty() ? nullptr : &args[0];
    if (request == nullptr || !request->is_object() || !request->contains("on") ||
        !(*request)["on"].is_boolean()) {
        if (ack)
            ack({{"granted", false}, {"holder", nullptr}, {"reason", "send {on: true|false}"}});
        return;
    }
    const bool on = (*request)["on"].get<bool>();
    const TalkerId who{socket.id(), name_of(socket.auth())};
    const std::optional<TalkerId> old_holder = holder_copy();
    bool changed = false;
    const TalkAnswer answer = floor_.request(who, on, socket.auth(), changed);
    if (on && answer.granted) {
        sockets_[who.id] = &socket;
        if (Talker* t = talker(who.id)) {
            t->regrant(now_ns());
        } else {
            talkers_.emplace(who.id,
                             std::make_unique<Talker>(who, jitter_settings(config_), now_ns()));
        }
        start_housekeeping();  // releases a silent holder even if it never sends a packet
    } else if (!on) {
        if (Talker* t = talker(who.id)) t->releasing = true;  // what it sent still plays out
    }
    if (changed) {
        log::info("talk: {} {}", describe(who), on ? "talks" : "stopped talking");
        floor_changed(old_holder);
    } else if (on && !answer.granted) {
        log::debug("talk: {} refused: {}", describe(who), answer.reason);
    }
    if (ack) ack(nlohmann::json::array({answer.to_json()}));
}

void TalkService::on_mic(SioSocket& socket, const nlohmann::json& args) {
    if (args.empty() || !args.back().is_binary() || args.size() > 2) {
        close_client(socket, "mic: needs one Opus packet as its last argument");
        return;
    }
    std::optional<std::uint64_t> seq;
    if (args.size() == 2) {
        const nlohmann::json& meta = args[0];
        auto it = meta.is_object() ? meta.find("seq") : meta.end();
        if (!meta.is_object() || (it != meta.end() && !it->is_number_unsigned())) {
            close_client(socket, "mic: metadata must be {seq: unsigned integer}");
            return;
        }
        if (it != meta.end()) seq = it->get<std::uint64_t>();
    }
    const auto& bytes = args.back().get_binary();
    const std::string_view packet(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const OpusPacketCheck check =
        check_opus_packet(packet, kMinPacketMs, kMaxPacketMs, kMaxPacketBytes);
    if (!check.ok()) {
        close_client(socket, fmt::format("mic: {}", check.problem));
        return;
    }
    Talker* t = talker(socket.id());
    if (t == nullptr || t->releasing || !floor_.may_play(socket.id())) {
        ++counters_.mic_refused;  // listen mode, not granted, or not the floor holder
        return;
    }
    switch (t->arrive(seq, packet, check.samples, now_ns())) {
        case Talker::Arrival::queued:
            ++counters_.mic_packets;
            start_mixer();
            break;
        case Talker::Arrival::dropped:
            ++counters_.mic_dropped;
            break;
        case Talker::Arrival::over_budget:
            ++counters_.over_budget;
            break;
        case Talker::Arrival::flooding:
            ++counters_.over_budget;
            close_client(socket, "mic: sends audio far faster than real time", true);
            break;
    }
}

void TalkService::close_client(SioSocket& socket, std::string_view problem, bool flood) {
    ++(flood ? counters_.floods : counters_.invalid);
    log::warning("client {} ({}): closed: {}", socket.id(), socket.peer(), problem);
    // Last use of `socket`: closing removes it (and calls on_disconnect).
    server_.engine().close(socket.session(), "bad mic packet");
}

void TalkService::on_disconnect(SioSocket& socket) {
    const std::string id = socket.id();
    const std::optional<TalkerId> old_holder = holder_copy();
    const bool changed = floor_.remove(id);
    sockets_.erase(id);
    if (auto it = talkers_.find(id); it != talkers_.end()) {
        fold_counters(*it->second);
        talkers_.erase(it);
    }
    if (changed) {
        log::info("talk: {} left while talking", id);
        floor_changed(old_holder);
    }
}

void TalkService::release(std::string id, std::string_view why) {
    const std::optional<TalkerId> old_holder = holder_copy();
    if (!floor_.remove(id)) return;
    if (Talker* t = talker(id)) t->releasing = true;
    log::info("talk: {} released: {}", id, why);
    floor_changed(old_holder);
}

void TalkService::floor_changed(const std::optional<TalkerId>& old_holder) {
    // talk.mute_floor_holder: the holder hears no room audio while holding
    // (the room's capture may carry their own voice back, delayed).
    const TalkerId* holder = floor_.holder();
    const bool mute = config_.talk.mute_floor_holder;
    auto session_of = [this](const std::string& id) -> EioSession* {
        auto it = sockets_.find(id);
        return it == sockets_.end() ? nullptr : &it->second->session();
    };
    if (old_holder && (holder == nullptr || holder->id != old_holder->id)) {
        if (EioSession* s = session_of(old_holder->id)) server_.engine().subscribe(*s);
    }
    if (holder != nullptr && mute) {
        if (EioSession* s = session_of(holder->id)) server_.engine().unsubscribe(*s);
    }
    broadcast_state();
}

void TalkService::broadcast_state() {
    sio::Packet packet{sio::PacketType::event, "/", std::nullopt,
                       nlohmann::json::array({"talk_state", floor_.state_json()})};
    server_.broadcast("/", make_outgoing(packet));
}

void TalkService::apply() {
    const std::optional<TalkerId> old_holder = holder_copy();
    const bool changed =
        floor_.set_mode(config_.audio.mode, static_cast<std::size_t>(config_.talk.max_talkers));
    for (auto& [id, t] : talkers_) {
        t->apply(jitter_settings(config_));
        if (!floor_.may_play(id)) t->releasing = true;
    }
    if (changed)
        log::info("talk: mode {}: {} talking", to_string(config_.audio.mode),
                  floor_.talkers().size());
    floor_changed(old_holder);  // also applies a new mute setting
}

void TalkService::start_mixer() {
    if (!mixer_) {
        const auto interval =
            static_cast<std::uint64_t>(std::clamp(config_.audio.period_ms / 2, 2, 10));
        last_mix_ns_ = now_ns();
        mixer_ = start_timer(loop_, interval, interval, [this] { mix_tick(); });
    }
    start_housekeeping();
}

void TalkService::start_housekeeping() {
    if (!housekeeping_) housekeeping_ = start_timer(loop_, 500, 500, [this] { housekeeping(); });
}

std::optional<TalkerId> TalkService::holder_copy() const {
    const TalkerId* holder = floor_.holder();
    return holder ? std::optional(*holder) : std::nullopt;
}

void TalkService::mix_tick() {
    const std::int64_t now = now_ns();
    const auto elapsed =
        static_cast<std::size_t>(std::max<std::int64_t>(0, now - last_mix_ns_) / 20'833);
    last_mix_ns_ = now;
    const auto period = static_cast<std::size_t>(config_.audio.period_ms) * 48;
    const std::size_t target = std::max<std::size_t>(2 * period, 480);
    const std::size_t queued = out_.queued();
    // Never more than the clock allows: with the playback device down the
    // ring stays empty, and the talkers still play out at real time.
    std::size_t want = queued < target ? target - queued : 0;
    want = std::min({want, elapsed + period, mix_.size()});

    bool any = false;
    bool loud = false;
    if (want > 0) {
        std::span<float> mix = std::span<float>(mix_).first(want);
        std::fill(mix.begin(), mix.end(), 0.0F);
        const auto gain = static_cast<float>(dsp::db_to_gain(config_.talk.gain_db));
        const auto silence = static_cast<float>(config_.talk.silence_threshold_db);
        for (auto& [id, t] : talkers_) {
            if (!t->mix_into(mix, scratch_, gain, silence, now)) continue;
            any = true;
            if (std::int64_t d = t->jitter().last_playout_delay_ns(); d >= 0) {
                mic_to_ring_.add(static_cast<double>(d) / 1e6);
            }
        }
        if (any) {
            limiter_.process(mix);
            if (!out_.play(mix)) counters_.ring_drops += want;
        }
    }
    const auto& duck = config_.ducking.room;
    for (const auto& [id, t] : talkers_) {
        loud = loud || (duck.enabled && t->level_dbfs() > duck.threshold_db);
    }
    if (loud != loud_) {
        loud_ = loud;
        if (out_.talkers_loud) out_.talkers_loud(loud);
    }
    const bool pending =
        std::ranges::any_of(talkers_, [](const auto& kv) { return kv.second->has_audio(); });
    if (!any && !pending && !loud_) mixer_.close();  // silence: the audio thread fills it
}

void TalkService::housekeeping() {
    const std::int64_t now = now_ns();
    const TalkerId* holder = floor_.holder();
    const int limit_s = config_.talk.floor_silence_s;
    if (holder != nullptr && limit_s > 0) {
        if (Talker* t = talker(holder->id);
            t != nullptr && now - t->last_voice_ns() > std::int64_t{limit_s} * 1'000'000'000) {
            ++counters_.floor_timeouts;
            // release() takes a copy of the id: releasing removes the holder.
            release(holder->id, fmt::format("silent for {} s (talk.floor_silence_s)", limit_s));
        }
    }
    for (auto it = talkers_.begin(); it != talkers_.end();) {
        if (it->second->releasing && !it->second->has_audio()) {
            fold_counters(*it->second);
            it = talkers_.erase(it);
        } else {
            ++it;
        }
    }
    if (talkers_.empty()) housekeeping_.close();
}

float TalkService::mic_level_dbfs() const {
    float level = dsp::kSilenceDbfs;
    for (const auto& [id, t] : talkers_) level = std::max(level, t->level_dbfs());
    return level;
}

void TalkService::fold_counters(const Talker& talker) {
    counters_.jitter += talker.jitter().counters();
}

}  // namespace clubvoice
