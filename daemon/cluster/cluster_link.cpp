#include "cluster_link.hpp"

#include "cluster_frame.hpp"
#include "log.hpp"
#include "loop_thread.hpp"

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

std::string channel_of(const Config& config) {
    return "clubvoice:" + config.cluster.room + ":audio";
}

}  // namespace

ClusterLink::ClusterLink(uv_loop_t* loop, const Config& config, FrameSink sink)
    : loop_(loop),
      config_(config),
      role_(config.cluster.role),
      channel_(channel_of(config)),
      sink_(std::move(sink)) {
    if (role_ == ClusterRole::standalone) return;
    const auto url = parse_server_url(config.cluster.redis_url, Config::Cluster::kSchemes);
    if (!url) return;  // checked on load
    RedisConnection::Events events;
    events.up = [this] {
        log::notice("cluster: connected to Redis at {} as {} of room \"{}\"",
                    config_.cluster.redis_url, to_string(role_), config_.cluster.room);
        if (role_ == ClusterRole::edge) {
            redis_->command({"SUBSCRIBE", channel_},
                            [this](const redisReply* reply) { on_message(reply); });
        }
    };
    events.down = [this](const std::string& why) {
        ++counters_.redis_losses;
        log::warning("cluster: Redis at {} {}; {}", config_.cluster.redis_url, why,
                     role_ == ClusterRole::origin ? "listeners here are still served"
                                                  : "this edge has no audio until it is back");
    };
    redis_ = std::make_unique<RedisConnection>(loop, url->host, url->port,
                                               std::string(to_string(role_)), std::move(events));
    if (role_ == ClusterRole::edge) {
        watch_timer_ = start_timer(loop, kWatchMs, kWatchMs, [this] { watch(); });
    }
}

ClusterLink::~ClusterLink() {
    stop();
}

void ClusterLink::stop() {
    if (stopped_) return;
    stopped_ = true;
    watch_timer_.close();
    if (redis_) redis_->close();
}

void ClusterLink::publish(const EncodedFrame& frame, int channels) {
    assert_on_loop();
    if (role_ != ClusterRole::origin || stopped_ || !redis_ || !redis_->up()) return;
    if (redis_->pending() >= kMaxUnanswered) {
        ++counters_.publish_dropped;
        return;
    }
    encode_cluster_frame({frame.seq, frame.capture_ms, channels, frame.opus}, message_);
    if (redis_->command({"PUBLISH", channel_, message_})) {
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
    const redisReply* payload = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message" ||
        payload->type != REDIS_REPLY_STRING) {
        return;
    }
    on_frame(std::string_view(payload->str, payload->len));
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
    if (!redis_ || !redis_->up()) return false;
    return role_ == ClusterRole::origin || stream_up_;
}

std::string ClusterLink::problem() const {
    if (up()) return "up";
    if (!redis_ || !redis_->up()) {
        return "down: Redis at " + config_.cluster.redis_url + ": " +
               (redis_ ? redis_->problem() : std::string("not configured"));
    }
    return "down: no frames from the origin on " + channel_;
}

ClusterLink::Figures ClusterLink::figures() const {
    Figures f = counters_;
    f.redis_up = redis_ && redis_->up();
    f.stream_up = role_ == ClusterRole::edge && stream_up_;
    return f;
}

}  // namespace clubvoice
