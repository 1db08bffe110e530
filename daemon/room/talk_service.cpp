#include "talk_service.hpp"

#include "dsp/level_meter.hpp"
#include "log.hpp"
#include "monotonic_clock.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace clubvoice {
namespace {

JitterSettings jitter_settings(const Config& config) {
    return {config.talk.jitter_target_ms, config.talk.jitter_max_ms};
}

// The name from CONNECT auth, already checked and cleaned when it arrived.
std::string name_of(const nlohmann::json& auth) {
    auto it = auth.find("name");
    return it != auth.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string describe(const TalkerId& who) {
    return who.name.empty() ? who.id : fmt::format("{} ({})", who.id, who.name);
}

}  // namespace

TalkService::TalkService(uv_loop_t* loop, SioServer& server, const Config& config,
                         Audience& audience, PlaybackOut out,
                         std::function<void(bool loud)> on_loud)
    : loop_(loop),
      server_(server),
      config_(config),
      audience_(audience),
      floor_(config.audio.mode, static_cast<std::size_t>(config.talk.max_talkers)),
      mixer_(loop, std::move(out), std::move(on_loud)) {
    mixer_.set(mixer_settings());
}

TalkService::~TalkService() = default;

TalkMixer::Settings TalkService::mixer_settings() const {
    return {config_.audio.period_ms, static_cast<float>(dsp::db_to_gain(config_.talk.gain_db)),
            static_cast<float>(config_.talk.silence_threshold_db), config_.ducking.room.enabled,
            static_cast<float>(config_.ducking.room.threshold_db)};
}

void TalkService::start_mixer() {
    // Just below the audio thread, which must never wait for the mixer.
    const int priority = config_.audio.rt_priority > 1 ? config_.audio.rt_priority - 1 : 0;
    mixer_.start(priority);
    if (priority > 0 && !mixer_.thread().realtime()) {
        log::warning("talk mixer: {}; it runs at normal priority", mixer_.thread().refused());
    }
}

Talker* TalkService::talker(const std::string& id) {
    auto& talkers = mixer_.talkers();
    auto it = talkers.find(id);
    return it == talkers.end() ? nullptr : it->second.get();
}

void TalkService::on_talk(SioSocket& socket, bool on, bool role_allows, const SioAck& ack) {
    if (relay_ != nullptr) return relay_->talk(socket, on, role_allows, ack);
    const TalkAnswer answer = take({socket.id(), name_of(socket.auth())}, on, role_allows);
    if (ack) ack(nlohmann::json::array({answer.to_json()}));
}

TalkAnswer TalkService::remote_talk(const TalkerId& who, bool on, bool role_allows) {
    return take(who, on, role_allows);
}

TalkAnswer TalkService::take(const TalkerId& who, bool on, bool role_allows) {
    const std::optional<TalkerId> old_holder = holder_copy();
    bool changed = false;
    TalkAnswer answer = floor_.request(who, on, role_allows, changed);
    if (on && answer.granted) {
        // Made outside the lock: the mixer thread must not wait on an allocation.
        auto fresh = std::make_unique<Talker>(who, jitter_settings(config_), monotonic_ns());
        auto lock = mixer_.lock();
        if (Talker* t = talker(who.id)) {
            t->regrant(monotonic_ns());
        } else {
            mixer_.talkers().emplace(who.id, std::move(fresh));
        }
        lock.unlock();
        start_housekeeping();  // releases a silent holder even if it never sends a packet
    } else if (!on) {
        auto lock = mixer_.lock();
        if (Talker* t = talker(who.id)) t->releasing = true;  // what it sent still plays out
    }
    if (changed) {
        log::info("talk: {} {}", describe(who), on ? "talks" : "stopped talking");
        floor_changed(old_holder);
    } else if (on && !answer.granted) {
        log::debug("talk: {} refused: {}", describe(who), answer.reason);
    }
    return answer;
}

void TalkService::on_mic(SioSocket& socket, const room::MicPacket& mic) {
    if (relay_ != nullptr) return relay_->mic(socket, mic);
    const auto arrival = file(socket.id(), mic);
    if (arrival == Talker::Arrival::flooding) close_flooder(socket);
}

bool TalkService::remote_mic(const std::string& id, const room::MicPacket& mic) {
    if (file(id, mic) != Talker::Arrival::flooding) return false;
    ++counters_.floods;
    log::warning("talk: {} (on an edge): sends audio far faster than real time", id);
    leave(id);
    return true;
}

std::optional<Talker::Arrival> TalkService::file(const std::string& id,
                                                 const room::MicPacket& mic) {
    auto lock = mixer_.lock();
    Talker* t = talker(id);
    if (t == nullptr || t->releasing || !floor_.may_play(id)) {
        ++counters_.mic_refused;  // listen mode, not granted, or not the floor holder
        return std::nullopt;
    }
    const Talker::Arrival arrival = t->arrive(mic.seq, mic.opus, mic.samples, monotonic_ns());
    lock.unlock();
    switch (arrival) {
        case Talker::Arrival::queued:
            ++counters_.mic_packets;
            break;
        case Talker::Arrival::dropped:
            ++counters_.mic_dropped;
            break;
        case Talker::Arrival::over_budget:
        case Talker::Arrival::flooding:  // the caller closes the flooder
            ++counters_.over_budget;
            break;
    }
    return arrival;
}

void TalkService::close_flooder(SioSocket& socket) {
    ++counters_.floods;
    log::warning("client {} ({}): closed: mic: sends audio far faster than real time", socket.id(),
                 socket.peer());
    // Last use of `socket`: closing removes it (and calls on_disconnect).
    socket.close("mic flood");
}

void TalkService::on_disconnect(SioSocket& socket) {
    if (relay_ != nullptr) return relay_->left(socket);
    leave(socket.id());
}

void TalkService::remote_leave(const std::string& id) {
    leave(id);
}

void TalkService::leave(const std::string& id) {
    const std::optional<TalkerId> old_holder = holder_copy();
    const bool changed = floor_.remove(id);
    std::unique_ptr<Talker> gone;  // freed after the lock is let go
    {
        auto lock = mixer_.lock();
        auto& talkers = mixer_.talkers();
        if (auto it = talkers.find(id); it != talkers.end()) {
            fold_counters(*it->second);
            gone = std::move(it->second);
            talkers.erase(it);
        }
    }
    if (changed) {
        log::info("talk: {} left while talking", id);
        floor_changed(old_holder);
    }
}

void TalkService::release(std::string id, std::string_view why) {
    const std::optional<TalkerId> old_holder = holder_copy();
    if (!floor_.remove(id)) return;
    {
        auto lock = mixer_.lock();
        if (Talker* t = talker(id)) t->releasing = true;
    }
    log::info("talk: {} released: {}", id, why);
    floor_changed(old_holder);
}

void TalkService::floor_changed(const std::optional<TalkerId>& old_holder) {
    // talk.mute_floor_holder: the holder hears no room audio while holding
    // (the room's capture may carry their own voice back, delayed).
    const TalkerId* holder = floor_.holder();
    if (old_holder && (holder == nullptr || holder->id != old_holder->id)) {
        audience_.set_muted(old_holder->id, false);
    }
    // Also when the holder stays: a reload may have turned muting off.
    if (holder != nullptr) audience_.set_muted(holder->id, config_.talk.mute_floor_holder);
    broadcast_state();
}

void TalkService::broadcast_state() {
    nlohmann::json state = floor_.state_json();
    if (state_listener_) state_listener_(state);
    sio::Packet packet{sio::PacketType::event, "/", std::nullopt,
                       nlohmann::json::array({"talk_state", std::move(state)})};
    server_.broadcast("/", make_outgoing(packet));
}

void TalkService::apply() {
    if (relay_ != nullptr) return;  // an edge: the origin's floor is the room's
    const std::optional<TalkerId> old_holder = holder_copy();
    const bool changed =
        floor_.set_mode(config_.audio.mode, static_cast<std::size_t>(config_.talk.max_talkers));
    {
        auto lock = mixer_.lock();
        mixer_.set(mixer_settings());
        for (auto& [id, t] : mixer_.talkers()) {
            t->apply(jitter_settings(config_));
            if (!floor_.may_play(id)) t->releasing = true;
        }
    }
    if (changed) {
        log::info("talk: mode {}: {} talking", to_string(config_.audio.mode),
                  floor_.talkers().size());
    }
    floor_changed(old_holder);  // also applies a new mute setting
}

void TalkService::start_housekeeping() {
    if (!housekeeping_) housekeeping_ = start_timer(loop_, 500, 500, [this] { housekeeping(); });
}

std::optional<TalkerId> TalkService::holder_copy() const {
    const TalkerId* holder = floor_.holder();
    return holder ? std::optional(*holder) : std::nullopt;
}

void TalkService::housekeeping() {
    const std::int64_t now = monotonic_ns();
    auto lock = mixer_.lock();
    const TalkerId* holder = floor_.holder();
    const int limit_s = config_.talk.floor_silence_s;
    if (holder != nullptr && limit_s > 0) {
        if (Talker* t = talker(holder->id);
            t != nullptr && now - t->last_voice_ns() > std::int64_t{limit_s} * 1'000'000'000) {
            ++counters_.floor_timeouts;
            lock.unlock();  // release() takes it, and broadcasts
            // release() takes a copy of the id: releasing removes the holder.
            release(holder->id, fmt::format("silent for {} s (talk.floor_silence_s)", limit_s));
            lock.lock();
        }
    }
    std::vector<std::unique_ptr<Talker>> gone;  // freed after the lock is let go
    auto& talkers = mixer_.talkers();
    for (auto it = talkers.begin(); it != talkers.end();) {
        if (it->second->releasing && !it->second->has_audio()) {
            fold_counters(*it->second);
            gone.push_back(std::move(it->second));
            it = talkers.erase(it);
        } else {
            ++it;
        }
    }
    if (talkers.empty()) housekeeping_.close();
}

float TalkService::mic_level_dbfs() const {
    auto lock = mixer_.lock();
    float level = dsp::kSilenceDbfs;
    for (const auto& [id, t] : mixer_.talkers()) level = std::max(level, t->level_dbfs());
    return level;
}

void TalkService::fold_counters(const Talker& talker) {
    counters_.jitter += talker.jitter().counters();
}

}  // namespace clubvoice
