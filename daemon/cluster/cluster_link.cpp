#include "cluster_link.hpp"

#include "cluster_frame.hpp"
#include "log.hpp"
#include "loop_thread.hpp"
#include "random_id.hpp"
#include "talk_message.hpp"

#include <hiredis/hiredis.h>
#include <opus/opus.h>

namespace clubvoice {
namespace {

// Five seconds of frames unanswered: Redis is not keeping up, and frames
// that wait longer would be too late for any listener.
constexpr std::size_t kMaxUnanswered = 250;
// An edge without a frame for this long says the origin's stream is missing.
constexpr std::uint64_t kStreamTimeoutMs = 1000;
constexpr std::uint64_t kWatchMs = 250;

constexpr std::uint64_t kCountMs = 1000;

std::string channel_of(const Config& config) {
    return "clubvoice:" + config.cluster.room + ":audio";
}

// KEYS[1]: the room's clients hash; ARGV: this node, its count, how long an
// entry counts (ms). Writes "count time" under the node with Redis' clock,
// drops the entries older than that, and returns the sum of the others.
constexpr std::string_view kCountScript = R"lua(
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ms)
redis.call('PEXPIRE', KEYS[1], 60000)
local total = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local count, seen = string.match(entries[i + 1], '^(%d+) (%d+)$')
  if count and ms - tonumber(seen) <= tonumber(ARGV[3]) then
    total = total + tonumber(count)
  else
    redis.call('HDEL', KEYS[1], entries[i])
  end
end
return total
)lua";
constexpr std::string_view kEntryLifeMs = "5000";

}  // namespace

ClusterLink::ClusterLink(uv_loop_t* loop, const Config& config, FrameSink sink)
    : loop_(loop),
      config_(config),
      role_(config.cluster.role),
      channel_(channel_of(config)),
      talk_channel_(talk_channel_of(config.cluster.room)),
      sink_(std::move(sink)),
      node_(random_id()) {
    if (role_ == ClusterRole::standalone) return;
    const auto url = parse_server_url(config.cluster.redis_url, Config::Cluster::kSchemes);
    if (!url) return;  // checked on load
    commands_ = std::make_unique<RedisConnection>(loop, url->host, url->port, "commands",
                                                  events_for("commands"));
    if (role_ == ClusterRole::edge) {
        subscriber_ = std::make_unique<RedisConnection>(loop, url->host, url->port, "subscriber",
                                                        events_for("subscriber"));
        watch_timer_ = start_timer(loop, kWatchMs, kWatchMs, [this] { watch(); });
    }
    count_timer_ = start_timer(loop, kCountMs, kCountMs, [this] { count_clients(); });
}

RedisConnection::Events ClusterLink::events_for(std::string_view which) {
    RedisConnection::Events events;
    const bool subscriber = which == "subscriber";
    events.up = [this, subscriber] {
        if (subscriber) {
            subscriber_->command({"SUBSCRIBE", channel_, talk_channel_},
                                 [this](const redisReply* reply) { on_message(reply); });
            return;
        }
        log::notice("cluster: connected to Redis at {} as {} of room \"{}\"",
                    config_.cluster.redis_url, to_string(role_), config_.cluster.room);
    };
    events.down = [this, subscriber](const std::string& why) {
        if (subscriber) return;  // the commands connection speaks for both
        ++counters_.redis_losses;
        if (remote_clients_) remote_clients_(0);
        log::warning("cluster: Redis at {} {}; {}", config_.cluster.redis_url, why,
                     role_ == ClusterRole::origin ? "listeners here are still served"
                                                  : "this edge has no audio until it is back");
    };
    return events;
}

void ClusterLink::set_clients(std::function<std::size_t()> local,
                              std::function<void(std::size_t)> remote) {
    local_clients_ = std::move(local);
    remote_clients_ = std::move(remote);
}

void ClusterLink::count_clients() {
    if (!commands_ || !commands_->up() || !local_clients_) return;
    const std::size_t local = local_clients_();
    const std::string key = "clubvoice:" + config_.cluster.room + ":clients";
    const std::string count = std::to_string(local);
    commands_->command(
        {"EVAL", kCountScript, "1", key, node_, count, kEntryLifeMs},
        [this, local](const redisReply* reply) {
            if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
                return;
            }
            const auto total = static_cast<std::size_t>(reply->integer);
            counters_.room_clients = total;
            if (remote_clients_) remote_clients_(total > local ? total - local : 0);
        });
}

ClusterLink::~ClusterLink() {
    stop();
}

void ClusterLink::stop() {
    if (stopped_) return;
    stopped_ = true;
    watch_timer_.close();
    count_timer_.close();
    if (subscriber_) subscriber_->close();
    if (commands_) commands_->close();  // this node's count drops out within 5 s
}

void ClusterLink::publish(const EncodedFrame& frame, int channels) {
    assert_on_loop();
    if (role_ != ClusterRole::origin || stopped_ || !commands_ || !commands_->up()) return;
    if (commands_->pending() >= kMaxUnanswered) {
        ++counters_.publish_dropped;
        return;
    }
    encode_cluster_frame({frame.seq, frame.capture_ms, channels, frame.opus}, message_);
    if (commands_->command({"PUBLISH", channel_, message_})) {
        // Out before this frame's fan-out to the origin's own listeners,
        // which the edges' listeners would otherwise wait for.
        commands_->flush();
        ++counters_.published;
    } else {
        ++counters_.publish_dropped;
    }
}

void ClusterLink::on_message(const redisReply* reply) {
    // ["message", channel, payload]; the subscription's confirmation and
    // anything else are not frames.
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
    const redisReply* kind = reply->element[0];
    const redisReply* channel = reply->element[1];
    const redisReply* payload = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message" ||
        channel->type != REDIS_REPLY_STRING || payload->type != REDIS_REPLY_STRING) {
        return;
    }
    const std::string_view message(payload->str, payload->len);
    if (std::string_view(channel->str, channel->len) == talk_channel_) {
        if (talk_handler_) talk_handler_(message);
        return;
    }
    on_frame(message);
}

void ClusterLink::on_frame(std::string_view message) {
    std::string problem;
    const auto frame = decode_cluster_frame(message, &problem);
    if (!frame) {
        if (counters_.invalid++ == 0) {
            log::warning("cluster: a message on {}: {}", channel_, problem);
        }
        return;
    }
    // The edge tells its listeners its own audio.* settings; frames of
    // another shape would not play as announced.
    const int samples =
        opus_packet_get_nb_samples(reinterpret_cast<const unsigned char*>(frame->opus.data()),
                                   static_cast<opus_int32>(frame->opus.size()), 48000);
    if (frame->channels != config_.audio.capture.channels ||
        samples != config_.audio.frame_ms * 48) {
        ++counters_.mismatched;
        if (!mismatch_logged_) {
            mismatch_logged_ = true;
            log::error(
                "cluster: the origin sends {}-channel frames of {} samples; this edge announces "
                "{} channels of {} ms: set audio.capture.channels and audio.frame_ms as on the "
                "origin",
                frame->channels, samples, config_.audio.capture.channels, config_.audio.frame_ms);
        }
        return;
    }
    if (have_seq_ && frame->seq > last_seq_ + 1) counters_.missed += frame->seq - last_seq_ - 1;
    if (have_seq_ && frame->seq <= last_seq_) ++counters_.origin_restarts;
    have_seq_ = true;
    last_seq_ = frame->seq;
    last_frame_ms_ = uv_now(loop_);
    ++counters_.received;
    if (!stream_up_) {
        stream_up_ = true;
        log::notice("cluster: the origin's frames arrive on {} (from seq {})", channel_,
                    frame->seq);
    }
    sink_({frame->seq, frame->capture_ms, frame->opus}, frame->channels);
}

void ClusterLink::watch() {
    uv_update_time(loop_);
    if (stream_up_ && uv_now(loop_) - last_frame_ms_ > kStreamTimeoutMs) {
        stream_up_ = false;
        log::warning("cluster: no frames from the origin on {} for {} ms", channel_,
                     kStreamTimeoutMs);
    }
}

bool ClusterLink::up() const {
    if (role_ == ClusterRole::standalone) return true;
    if (!commands_ || !commands_->up()) return false;
    if (role_ == ClusterRole::origin) return true;
    return subscriber_ && subscriber_->up() && stream_up_;
}

std::string ClusterLink::problem() const {
    if (up()) return "up";
    for (const RedisConnection* redis : {commands_.get(), subscriber_.get()}) {
        if (redis != nullptr && !redis->up()) {
            return "down: Redis at " + config_.cluster.redis_url + ": " + redis->problem();
        }
    }
    if (!commands_) return "down: Redis at " + config_.cluster.redis_url + ": not configured";
    return "down: no frames from the origin on " + channel_;
}

ClusterLink::Figures ClusterLink::figures() const {
    Figures f = counters_;
    f.redis_up = commands_ && commands_->up() && (!subscriber_ || subscriber_->up());
    f.stream_up = role_ == ClusterRole::edge && stream_up_;
    return f;
}

}  // namespace clubvoice
