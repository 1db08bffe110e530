#include "edge_talk.hpp"

#include "log.hpp"
#include "loop_thread.hpp"

#include <fmt/format.h>

#include <vector>

namespace clubvoice {
namespace {

constexpr std::uint64_t kTickMs = 250;
constexpr std::uint64_t kAliveEvery = 4;  // ticks: once a second
constexpr std::uint64_t kAnswerMs = 2000;
// The list's bound: a few seconds of packets of several talkers. It is
// trimmed each second and expires when nobody reads it (no origin).
constexpr std::string_view kListKeep = "-500";
constexpr std::string_view kListLifeMs = "10000";
// Commands unanswered beyond this: Redis is not keeping up; a packet that
// waited longer would come too late to play.
constexpr std::size_t kMaxUnanswered = 250;

std::string name_of(const SioSocket& socket) {
    auto it = socket.auth().find("name");
    return it != socket.auth().end() && it->is_string() ? it->get<std::string>() : std::string();
}

nlohmann::json refusal(std::string reason) {
    return {{"granted", false}, {"holder", nullptr}, {"reason", std::move(reason)}};
}

}  // namespace

EdgeTalk::EdgeTalk(uv_loop_t* loop, const Config& config, SioServer& server, Audience& audience,
                   ClusterLink& link)
    : loop_(loop),
      config_(config),
      server_(server),
      audience_(audience),
      link_(link),
      list_(talk_list_of(config.cluster.room)) {
    link_.on_talk_message([this](std::string_view message) { on_message(message); });
    timer_ = start_timer(loop_, kTickMs, kTickMs, [this] { tick(); });
}

EdgeTalk::~EdgeTalk() {
    stop();
}

void EdgeTalk::stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.close();
    link_.on_talk_message({});
    pending_.clear();  // the sessions are closing; their acks are not called
}

TalkIn EdgeTalk::about(TalkIn::Kind kind, const std::string& id) const {
    TalkIn message;
    message.kind = kind;
    message.node = link_.node();
    message.id = id;
    return message;
}

bool EdgeTalk::send(const TalkIn& message) {
    RedisConnection* redis = link_.commands();
    if (stopped_ || redis == nullptr || !redis->up() || redis->pending() >= kMaxUnanswered) {
        return false;
    }
    encode_talk_in(message, message_);
    return redis->command({"RPUSH", list_, message_});
}

void EdgeTalk::talk(SioSocket& socket, bool on, bool role_allows, const SioAck& ack) {
    assert_on_loop();
    const std::string& id = socket.id();
    if (!on) let_go(id);  // its packets stop here; what the origin has still plays out
    TalkIn request = about(TalkIn::Kind::talk, id);
    request.name = name_of(socket);
    request.on = on;
    request.allowed = role_allows;
    request.req = next_req_++;
    if (!send(request)) {
        ++counters_.unreachable;
        if (ack) {
            ack(nlohmann::json::array(
                {refusal("the room's origin cannot be reached: " + link_.problem())}));
        }
        return;
    }
    ++counters_.requests;
    if (ack) pending_[request.req] = {ack, id, &socket, on, uv_now(loop_) + kAnswerMs};
}

void EdgeTalk::mic(SioSocket& socket, const room::MicPacket& mic) {
    if (talkers_.find(socket.id()) == talkers_.end()) {
        ++counters_.mic_unsent;  // not granted (the origin would refuse it too)
        return;
    }
    TalkIn packet = about(TalkIn::Kind::mic, socket.id());
    packet.mic = mic;
    if (send(packet)) {
        ++counters_.mic_packets;
    } else {
        ++counters_.mic_unsent;
    }
}

void EdgeTalk::left(SioSocket& socket) {
    const std::string& id = socket.id();
    // Its session is going: an answer that comes later must not reach it.
    std::erase_if(pending_, [&](const auto& entry) { return entry.second.id == id; });
    if (talkers_.find(id) == talkers_.end()) return;
    let_go(id);
    // If this cannot go, the origin lets the talker go with this edge's silence.
    (void)send(about(TalkIn::Kind::leave, id));
}

void EdgeTalk::let_go(const std::string& id) {
    talkers_.erase(id);
    if (muted_ == id) {
        audience_.set_muted(id, false);
        muted_.clear();
    }
}

void EdgeTalk::on_message(std::string_view message) {
    std::string problem;
    auto decoded = decode_talk_out(message, &problem);
    if (!decoded) {
        if (counters_.invalid++ == 0) {
            log::warning("cluster: a talk message from the origin: {}", problem);
        }
        return;
    }
    TalkOut& m = *decoded;
    if (m.kind == TalkOut::Kind::state) return state(m.body);
    if (m.node != link_.node()) return;  // another edge's
    if (m.kind == TalkOut::Kind::answer) {
        auto it = pending_.find(m.req);
        if (it == pending_.end()) {
            // Answered too late (the client was refused, or left): a grant
            // nobody will use is handed back.
            if (m.body.value("granted", false) && talkers_.find(m.id) == talkers_.end()) {
                (void)send(about(TalkIn::Kind::leave, m.id));
            }
            return;
        }
        Pending pending = std::move(it->second);
        pending_.erase(it);
        if (pending.on && m.body.value("granted", false)) {
            talkers_[pending.id] = pending.socket;
            apply_mute();  // the new state came just before its answer
        }
        pending.ack(nlohmann::json::array({std::move(m.body)}));
        return;
    }
    // close: the origin found the talker flooding.
    auto it = talkers_.find(m.id);
    if (it == talkers_.end()) return;
    SioSocket* socket = it->second;
    ++counters_.floods;
    log::warning("client {} ({}): closed: mic: {}", socket->id(), socket->peer(), m.why);
    socket->close("mic flood");  // last use: closing calls left()
}

void EdgeTalk::state(const nlohmann::json& state) {
    // Talkers the origin no longer has (it lost this edge for a while, or
    // released them) send nothing more.
    std::vector<std::string> gone;
    for (const auto& [id, socket] : talkers_) {
        bool listed = false;
        for (const auto& t : state["talkers"]) listed = listed || t["id"] == id;
        if (!listed) gone.push_back(id);
    }
    for (const auto& id : gone) let_go(id);

    const bool changed = state != last_state_;  // the origin repeats it each 2 s
    last_state_ = state;
    apply_mute();
    if (!changed) return;
    sio::Packet packet{sio::PacketType::event, "/", std::nullopt,
                       nlohmann::json::array({"talk_state", state})};
    server_.broadcast("/", make_outgoing(packet));
}

void EdgeTalk::apply_mute() {
    // talk.mute_floor_holder: a holder on this node hears no room audio.
    const nlohmann::json floor =
        last_state_.is_object() ? last_state_.value("floor", nlohmann::json()) : nlohmann::json();
    const std::string holder = floor.is_object() ? floor["id"].get<std::string>() : "";
    const bool mute = config_.talk.mute_floor_holder && talkers_.find(holder) != talkers_.end();
    if (!muted_.empty() && (muted_ != holder || !mute)) {
        audience_.set_muted(muted_, false);
        muted_.clear();
    }
    if (mute && muted_ != holder) {
        audience_.set_muted(holder, true);
        muted_ = holder;
    }
}

void EdgeTalk::tick() {
    const std::uint64_t now = uv_now(loop_);
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline_ms > now) {
            ++it;
            continue;
        }
        ++counters_.unanswered;
        Pending pending = std::move(it->second);
        it = pending_.erase(it);
        log::warning("talk: {}: the room's origin did not answer within {} ms", pending.id,
                     kAnswerMs);
        pending.ack(nlohmann::json::array({refusal("the room's origin did not answer")}));
    }
    if (++ticks_ % kAliveEvery != 0) return;
    if (send(about(TalkIn::Kind::alive, {}))) {
        RedisConnection* redis = link_.commands();
        redis->command({"LTRIM", list_, kListKeep, "-1"});
        redis->command({"PEXPIRE", list_, kListLifeMs});
    }
}

ClusterTalkFigures EdgeTalk::figures() const {
    ClusterTalkFigures f = counters_;
    f.talkers = talkers_.size();
    return f;
}

}  // namespace clubvoice
