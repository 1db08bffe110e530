#include "origin_talk.hpp"

#include "log.hpp"
#include "server_url.hpp"

#include <hiredis/hiredis.h>

#include <set>
#include <vector>

namespace clubvoice {
namespace {

constexpr std::uint64_t kTickMs = 1000;
constexpr std::uint64_t kEdgeSilenceMs = 3000;
constexpr std::uint64_t kStateEvery = 2;  // ticks
// BLPOP waits this long (s) for a message, well inside the connection's
// 5 s reply timeout; the batch after each is read with LPOP's count.
constexpr std::string_view kWaitS = "1";
constexpr std::string_view kBatch = "100";

}  // namespace

OriginTalk::OriginTalk(uv_loop_t* loop, const Config& config, TalkService& talk, ClusterLink& link)
    : loop_(loop),
      talk_(talk),
      link_(link),
      list_(talk_list_of(config.cluster.room)),
      channel_(talk_channel_of(config.cluster.room)) {
    const auto url = parse_server_url(config.cluster.redis_url, Config::Cluster::kSchemes);
    if (!url) return;  // checked on load
    RedisConnection::Events events;
    events.up = [this] {
        reader_->command({"DEL", list_});
        pop();
    };
    events.down = [](const std::string&) {};  // the link's connection speaks for Redis
    reader_ = std::make_unique<RedisConnection>(loop, url->host, url->port, "talk", events);
    talk_.on_state([this](const nlohmann::json& state) {
        publish({TalkOut::Kind::state, {}, {}, {}, 0, state});
    });
    timer_ = start_timer(loop_, kTickMs, kTickMs, [this] { tick(); });
}

OriginTalk::~OriginTalk() {
    stop();
}

void OriginTalk::stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.close();
    talk_.on_state({});
    if (reader_) reader_->close();
}

void OriginTalk::pop() {
    if (stopped_ || !reader_->up()) return;
    // In order on one connection: a waiting pop, then the rest in one batch.
    reader_->command({"BLPOP", list_, kWaitS}, [this](const redisReply* reply) {
        if (reply == nullptr) return;  // lost: pop() again once it is back
        take(reply);
        reader_->command({"LPOP", list_, kBatch}, [this](const redisReply* batch) { take(batch); });
        pop();
    });
}

void OriginTalk::take(const redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;  // nil: nothing waited
    // BLPOP: [list, message]; LPOP with a count: [message...].
    const bool blpop = reply->elements == 2 && reply->element[0]->type == REDIS_REPLY_STRING &&
                       std::string_view(reply->element[0]->str, reply->element[0]->len) == list_;
    for (std::size_t i = blpop ? 1 : 0; i < reply->elements; ++i) {
        const redisReply* item = reply->element[i];
        if (item->type == REDIS_REPLY_STRING) on_message({item->str, item->len});
    }
}

void OriginTalk::on_message(std::string_view message) {
    std::string problem;
    auto decoded = decode_talk_in(message, &problem);
    if (!decoded) {
        if (counters_.invalid++ == 0) log::warning("cluster: a message on {}: {}", list_, problem);
        return;
    }
    TalkIn& m = *decoded;
    seen_ms_[m.node] = uv_now(loop_);
    if (m.kind == TalkIn::Kind::alive) return;
    // An edge speaks for its own clients only.
    auto owner = owners_.find(m.id);
    const bool theirs = owner != owners_.end() && owner->second == m.node;
    if (owner != owners_.end() && !theirs) {
        ++counters_.invalid;
        return;
    }
    switch (m.kind) {
        case TalkIn::Kind::talk: {
            ++counters_.requests;
            const TalkAnswer answer = talk_.remote_talk({m.id, m.name}, m.on, m.allowed);
            if (m.on && answer.granted) owners_[m.id] = m.node;
            publish({TalkOut::Kind::answer, m.node, m.id, {}, m.req, answer.to_json()});
            break;
        }
        case TalkIn::Kind::mic:
            if (!theirs) break;  // not granted: TalkService would refuse it too
            ++counters_.mic_packets;
            if (talk_.remote_mic(m.id, m.mic)) {
                ++counters_.floods;
                owners_.erase(m.id);
                publish({TalkOut::Kind::close,
                         m.node,
                         m.id,
                         "sends audio far faster than real time",
                         0,
                         {}});
            }
            break;
        case TalkIn::Kind::leave:
            if (!theirs) break;
            owners_.erase(m.id);
            talk_.remote_leave(m.id);
            break;
        default:
            break;
    }
}

void OriginTalk::publish(const TalkOut& message) {
    RedisConnection* redis = link_.commands();
    if (stopped_ || redis == nullptr || !redis->up()) return;  // the edges learn it in 2 s
    redis->command({"PUBLISH", channel_, encode_talk_out(message)});
}

void OriginTalk::tick() {
    const std::uint64_t now = uv_now(loop_);
    for (auto it = seen_ms_.begin(); it != seen_ms_.end();) {
        if (now - it->second < kEdgeSilenceMs) {
            ++it;
            continue;
        }
        std::vector<std::string> talkers;
        for (const auto& [id, edge] : owners_) {
            if (edge == it->first) talkers.push_back(id);
        }
        if (!talkers.empty()) {
            ++counters_.edges_lost;
            log::warning("cluster: edge {} silent for {} ms: its {} talker(s) let go", it->first,
                         kEdgeSilenceMs, talkers.size());
        }
        it = seen_ms_.erase(it);
        for (const auto& id : talkers) {
            owners_.erase(id);
            talk_.remote_leave(id);
        }
    }
    const nlohmann::json state = talk_.state_json();
    forget_released(state);
    if (++ticks_ % kStateEvery == 0) publish({TalkOut::Kind::state, {}, {}, {}, 0, state});
}

void OriginTalk::forget_released(const nlohmann::json& state) {
    // A talker that let go (or was released for silence) leaves the floor
    // here, and its edge forgets it, so no departure will come for it.
    std::set<std::string> talking;
    for (const auto& t : state["talkers"]) talking.insert(t["id"].get<std::string>());
    std::erase_if(owners_, [&](const auto& owner) { return talking.count(owner.first) == 0; });
}

ClusterTalkFigures OriginTalk::figures() const {
    ClusterTalkFigures f = counters_;
    f.talkers = owners_.size();
    return f;
}

}  // namespace clubvoice
