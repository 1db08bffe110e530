// A jitter buffer for one talker's Opus packets: orders them by seq, holds
// back target_ms of audio before playing, and decodes at playback pace.
//
// A missing packet is rebuilt from the next packet's in-band FEC when that
// packet is already here, else concealed (Opus PLC). When nothing is waiting
// the stream is late: it is concealed without skipping its slot, so a late
// packet still plays (the delay grows by a frame, which the drift correction
// takes back later). After ~60 ms without a packet the stream has ended: the
// buffer goes idle and outputs silence, and the next packet, whatever its seq,
// starts a new prebuffer. Depth above max_ms is trimmed back to the target at
// once; depth that stays above the target + half a frame for a second (the
// sender's clock runs faster than the sound card's, or late packets each
// added a frame) loses one frame.
//
// Memory is a fixed ring of max_ms worth of slots; packets further ahead are
// refused. Thread: loop (one owner).
#pragma once

#include "opus_decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

struct JitterSettings {
    int target_ms = 40;  // queued behind the frame playing before playback starts; kept there
    int max_ms = 200;    // more than this is trimmed back to the target (oldest dropped, counted)

    bool operator==(const JitterSettings&) const = default;
};

struct JitterCounters {
    std::uint64_t received = 0;          // packets accepted
    std::uint64_t late = 0;              // arrived after their slot was played (dropped)
    std::uint64_t duplicates = 0;        // a packet for a slot already filled (dropped)
    std::uint64_t too_far_ahead = 0;     // seq beyond max_ms ahead of the playout point (dropped)
    std::uint64_t lost = 0;              // slots with no packet at playout time
    std::uint64_t fec_recovered = 0;     // of the lost: rebuilt from the next packet's in-band FEC
    std::uint64_t concealed = 0;         // of the lost: Opus PLC
    std::uint64_t underruns = 0;         // frames concealed while the stream ran late (not lost)
    std::uint64_t overflow_dropped = 0;  // packets trimmed above max_ms, or for clock drift
    std::uint64_t decode_errors = 0;     // corrupt packets (their frame is concealed)
    std::uint64_t streams = 0;           // prebuffers started (talk turns, reconnects)

    // Totals over several buffers (the daemon's figures).
    JitterCounters& operator+=(const JitterCounters& o) {
        received += o.received;
        late += o.late;
        duplicates += o.duplicates;
        too_far_ahead += o.too_far_ahead;
        lost += o.lost;
        fec_recovered += o.fec_recovered;
        concealed += o.concealed;
        underruns += o.underruns;
        overflow_dropped += o.overflow_dropped;
        decode_errors += o.decode_errors;
        streams += o.streams;
        return *this;
    }
};

class JitterBuffer {
  public:
    static constexpr int kSampleRateHz = 48000;
    // Concealment of a stream that ran dry stops after this long: it has ended.
    static constexpr int kIdleAfterMs = 60;
    // Depth above target + 2 frames for this long drops one frame.
    static constexpr std::int64_t kDriftWindowNs = 1'000'000'000;

    explicit JitterBuffer(JitterSettings settings);

    // Reload. A change that resizes the ring (max_ms, or a large target_ms)
    // restarts the stream; otherwise playback goes on with the new figures.
    void apply(JitterSettings settings);
    const JitterSettings& settings() const { return settings_; }

    // One packet arrived (now_ns: CLOCK_MONOTONIC). Returns false when it was
    // dropped: late, duplicate, too far ahead, or not a valid Opus packet.
    bool push(std::uint64_t seq, std::string_view opus, std::int64_t now_ns);
    // The next out.size() samples (48 kHz mono): voice, recovered or concealed
    // frames, else silence. Returns how many were not silence-fill.
    std::size_t pull(std::span<float> out, std::int64_t now_ns);

    bool playing() const { return state_ == State::kPlaying; }
    int depth_ms() const;
    // now_ns of the last pull() that started a received packet minus that
    // packet's arrival time; -1 before any.
    std::int64_t last_playout_delay_ns() const { return last_playout_delay_ns_; }
    const JitterCounters& counters() const { return counters_; }

  private:
    enum class State { kIdle, kPrebuffering, kPlaying };
    struct Slot {
        std::uint64_t seq = 0;
        bool filled = false;
        int samples = 0;
        std::int64_t arrival_ns = 0;
        std::string data;  // keeps its capacity from packet to packet
    };

    Slot* find(std::uint64_t seq);
    const Slot* find(std::uint64_t seq) const;
    void store(std::uint64_t seq, std::string_view opus, int samples, std::int64_t now_ns);
    void start_stream(std::uint64_t seq);
    void go_idle();
    void release(std::uint64_t seq);
    std::size_t depth_samples() const;
    std::size_t keep_samples() const;
    std::size_t trim_above_samples() const;
    void maybe_start();
    void trim();
    void correct_drift(std::int64_t now_ns);
    bool next_frame(std::int64_t now_ns);
    void decode_packet(const Slot& slot);
    void conceal(int samples);

    JitterSettings settings_;
    std::vector<Slot> ring_;
    OpusDecoder decoder_{1};
    bool decoder_used_ = false;

    State state_ = State::kIdle;
    std::uint64_t next_seq_ = 0;              // the slot that plays next
    std::uint64_t end_seq_ = 0;               // one past the newest packet accepted in this stream
    int frame_samples_ = kSampleRateHz / 50;  // the latest packet's duration: the size of a gap

    std::vector<float> decoded_;  // the frame being played out
    std::size_t decoded_pos_ = 0;
    std::size_t decoded_len_ = 0;

    int dry_samples_ = 0;                  // concealed since the stream ran dry
    std::uint64_t pending_underruns_ = 0;  // counted once the stream goes on (not if it ended)
    std::int64_t over_since_ns_ = -1;      // when depth last rose above target + half a frame
    std::int64_t last_playout_delay_ns_ = -1;
    JitterCounters counters_;
};

}  // namespace clubvoice
