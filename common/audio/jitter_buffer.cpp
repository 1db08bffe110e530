#include "jitter_buffer.hpp"

#include "opus_fec.hpp"
#include "opus_packet_check.hpp"

#include <opus/opus.h>

#include <algorithm>

namespace clubvoice {
namespace {

constexpr int kSamplesPerMs = JitterBuffer::kSampleRateHz / 1000;

JitterSettings sanitized(JitterSettings s) {
    s.target_ms = std::clamp(s.target_ms, 0, 1000);
    s.max_ms = std::clamp(s.max_ms, kMinOpusPacketMs, 2000);
    return s;
}

// Room for max_ms of the shortest packets, and for the target plus two of the
// longest when max_ms is set below that.
std::size_t ring_slots(const JitterSettings& s) {
    const int span_ms = std::max(s.max_ms, s.target_ms + 2 * kMaxOpusPacketMs);
    return static_cast<std::size_t>(span_ms / kMinOpusPacketMs) + 2;
}

}  // namespace

JitterBuffer::JitterBuffer(JitterSettings settings)
    : settings_(sanitized(settings)),
      ring_(ring_slots(settings_)),
      decoded_(OpusDecoder::kMaxFrameSamples) {}

void JitterBuffer::apply(JitterSettings settings) {
    settings_ = sanitized(settings);
    const std::size_t slots = ring_slots(settings_);
    if (slots != ring_.size()) {
        go_idle();
        ring_.clear();
        ring_.resize(slots);
    }
}

JitterBuffer::Slot* JitterBuffer::find(std::uint64_t seq) {
    Slot& slot = ring_[seq % ring_.size()];
    return slot.filled && slot.seq == seq ? &slot : nullptr;
}

const JitterBuffer::Slot* JitterBuffer::find(std::uint64_t seq) const {
    const Slot& slot = ring_[seq % ring_.size()];
    return slot.filled && slot.seq == seq ? &slot : nullptr;
}

void JitterBuffer::release(std::uint64_t seq) {
    if (Slot* slot = find(seq)) slot->filled = false;
}

void JitterBuffer::store(std::uint64_t seq, std::string_view opus, int samples,
                         std::int64_t now_ns) {
    Slot& slot = ring_[seq % ring_.size()];
    slot.seq = seq;
    slot.filled = true;
    slot.samples = samples;
    slot.arrival_ns = now_ns;
    slot.data.assign(opus);
    end_seq_ = std::max(end_seq_, seq + 1);
    frame_samples_ = samples;
    ++counters_.received;
}

void JitterBuffer::start_stream(std::uint64_t seq) {
    go_idle();
    if (decoder_used_) {
        // A new stream comes from a new encoder: start without the old one's history.
        decoder_ = OpusDecoder(1);
        decoder_used_ = false;
    }
    state_ = State::kPrebuffering;
    next_seq_ = seq;
    end_seq_ = seq;
    ++counters_.streams;
}

void JitterBuffer::go_idle() {
    for (Slot& slot : ring_) slot.filled = false;
    state_ = State::kIdle;
    end_seq_ = next_seq_;
    decoded_pos_ = decoded_len_ = 0;
    dry_samples_ = 0;
    pending_underruns_ = 0;  // the stream ended rather than ran late
    over_since_ns_ = -1;
}

bool JitterBuffer::push(std::uint64_t seq, std::string_view opus, std::int64_t now_ns) {
    const int samples = opus.empty() ? OPUS_INVALID_PACKET
                                     : opus_packet_get_nb_samples(
                                           reinterpret_cast<const unsigned char*>(opus.data()),
                                           static_cast<opus_int32>(opus.size()), kSampleRateHz);
    if (samples <= 0 || samples > OpusDecoder::kMaxFrameSamples) {
        ++counters_.decode_errors;
        return false;
    }

    if (state_ == State::kIdle) {
        start_stream(seq);
    } else {
        const auto slots = static_cast<std::int64_t>(ring_.size());
        const auto ahead = static_cast<std::int64_t>(seq - next_seq_);  // modular: may be < 0
        const bool restartable = state_ == State::kPrebuffering || next_seq_ == end_seq_;
        // Up to max_ms ahead of the playout point: a burst that deep is then trimmed.
        const bool within_max = ahead >= 0 && ahead < slots &&
                                ahead * samples <= std::int64_t{settings_.max_ms} * kSamplesPerMs;
        if (ahead >= 0 && !within_max) {
            // Far ahead: a new seq range (reconnect) once nothing of the old
            // stream is waiting; otherwise refused, so memory stays bounded.
            if (!restartable) {
                ++counters_.too_far_ahead;
                return false;
            }
            start_stream(seq);
        } else if (ahead < 0) {
            const auto behind_end = static_cast<std::int64_t>(end_seq_ - seq);
            if (state_ == State::kPrebuffering && behind_end <= slots) {
                next_seq_ = seq;  // overtaken before playback began: it plays first
            } else if (restartable && ahead < -slots) {
                start_stream(seq);  // far behind: the sender's seq started over
            } else {
                ++counters_.late;
                return false;
            }
        }
    }

    if (find(seq) != nullptr) {
        ++counters_.duplicates;
        return false;
    }
    store(seq, opus, samples, now_ns);
    counters_.underruns += pending_underruns_;  // the stream went on: it was late, not over
    pending_underruns_ = 0;
    maybe_start();
    trim();
    return true;
}

std::size_t JitterBuffer::depth_samples() const {
    std::size_t depth = decoded_len_ - decoded_pos_;
    for (std::uint64_t seq = next_seq_; seq != end_seq_; ++seq) {
        const Slot* slot = find(seq);
        depth += static_cast<std::size_t>(slot != nullptr ? slot->samples : frame_samples_);
    }
    return depth;
}

int JitterBuffer::depth_ms() const {
    return static_cast<int>(depth_samples() / kSamplesPerMs);
}

std::size_t JitterBuffer::keep_samples() const {
    // The target is the margin behind the frame that is playing.
    return static_cast<std::size_t>(settings_.target_ms) * kSamplesPerMs +
           static_cast<std::size_t>(frame_samples_);
}

std::size_t JitterBuffer::trim_above_samples() const {
    return std::max(static_cast<std::size_t>(settings_.max_ms * kSamplesPerMs),
                    keep_samples() + static_cast<std::size_t>(frame_samples_));
}

void JitterBuffer::maybe_start() {
    if (state_ == State::kPrebuffering && depth_samples() >= keep_samples()) {
        state_ = State::kPlaying;
    }
}

void JitterBuffer::trim() {
    std::size_t depth = depth_samples();
    if (depth <= trim_above_samples()) return;
    while (depth > keep_samples() && next_seq_ != end_seq_) {
        const Slot* slot = find(next_seq_);
        if (slot != nullptr) {
            depth -= static_cast<std::size_t>(slot->samples);
            ++counters_.overflow_dropped;
            release(next_seq_);
        } else {
            depth -= static_cast<std::size_t>(frame_samples_);
        }
        ++next_seq_;
    }
}

void JitterBuffer::correct_drift(std::int64_t now_ns) {
    // On time, the depth swings between the target (just before a packet
    // arrives) and target + one frame (just after). Staying above target +
    // half a frame for a whole second means a frame too much is queued: the
    // sender's clock runs fast, or late packets each added a frame (they play
    // in their turn rather than be skipped). Either way a frame of delay goes.
    const auto above = static_cast<std::size_t>(settings_.target_ms) * kSamplesPerMs +
                       static_cast<std::size_t>(frame_samples_) / 2;
    if (depth_samples() <= above || next_seq_ == end_seq_) {
        over_since_ns_ = -1;
        return;
    }
    if (over_since_ns_ < 0) {
        over_since_ns_ = now_ns;
        return;
    }
    if (now_ns - over_since_ns_ < kDriftWindowNs) return;
    over_since_ns_ = now_ns;  // at most one frame a second
    // Skipping a whole packet leaves the decoder to bridge the jump, which Opus
    // does with little more than a short blur; a gap is skipped for free.
    if (find(next_seq_) != nullptr) {
        release(next_seq_);
        ++counters_.overflow_dropped;
    }
    ++next_seq_;
}

void JitterBuffer::decode_packet(const Slot& slot) {
    decoder_used_ = true;
    try {
        decoded_len_ = static_cast<std::size_t>(decoder_.decode(slot.data, decoded_));
    } catch (const OpusError&) {
        ++counters_.decode_errors;
        conceal(slot.samples);
    }
}

void JitterBuffer::conceal(int samples) {
    decoder_used_ = true;
    // Loss concealment with a frame size taken from a valid packet cannot fail.
    decoded_len_ = static_cast<std::size_t>(
        decoder_.decode({}, std::span<float>(decoded_).first(static_cast<std::size_t>(samples))));
}

bool JitterBuffer::next_frame(std::int64_t now_ns) {
    decoded_pos_ = decoded_len_ = 0;
    if (const Slot* slot = find(next_seq_)) {
        decode_packet(*slot);
        last_playout_delay_ns_ = now_ns - slot->arrival_ns;
        release(next_seq_);
        ++next_seq_;
        dry_samples_ = 0;
        return true;
    }
    if (next_seq_ != end_seq_) {
        // A gap with later packets waiting: this one is lost.
        ++counters_.lost;
        const Slot* after = find(next_seq_ + 1);
        bool recovered = false;
        if (after != nullptr && opus_packet_has_fec(after->data)) {
            decoder_used_ = true;
            try {
                const auto frame =
                    std::span<float>(decoded_).first(static_cast<std::size_t>(after->samples));
                decoded_len_ = static_cast<std::size_t>(decoder_.decode_fec(after->data, frame));
                recovered = true;
            } catch (const OpusError&) {
                ++counters_.decode_errors;
            }
        }
        if (recovered) {
            ++counters_.fec_recovered;
        } else {
            conceal(after != nullptr ? after->samples : frame_samples_);
            ++counters_.concealed;
        }
        ++next_seq_;
        dry_samples_ = 0;
        return true;
    }
    // Nothing waiting: the stream is late, or it has ended.
    const int idle_after = kIdleAfterMs * kSamplesPerMs;
    if (dry_samples_ >= idle_after) {
        go_idle();
        return false;
    }
    conceal(frame_samples_);
    ++pending_underruns_;
    dry_samples_ += frame_samples_;
    if (dry_samples_ >= idle_after) {
        // The last concealed frame fades out, so going silent does not click.
        const auto n = static_cast<float>(decoded_len_);
        for (std::size_t i = 0; i < decoded_len_; ++i) {
            decoded_[i] *= 1.0F - static_cast<float>(i + 1) / n;
        }
    }
    return true;
}

std::size_t JitterBuffer::pull(std::span<float> out, std::int64_t now_ns) {
    std::size_t done = 0;
    maybe_start();
    if (state_ == State::kPlaying) {
        correct_drift(now_ns);
        while (done < out.size()) {
            if (decoded_pos_ == decoded_len_ && !next_frame(now_ns)) break;
            const std::size_t n = std::min(decoded_len_ - decoded_pos_, out.size() - done);
            std::copy_n(decoded_.begin() + static_cast<std::ptrdiff_t>(decoded_pos_), n,
                        out.begin() + static_cast<std::ptrdiff_t>(done));
            decoded_pos_ += n;
            done += n;
        }
    }
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(done), out.end(), 0.0F);
    return done;
}

}  // namespace clubvoice
