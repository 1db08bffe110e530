// Cuts a stream of time-stamped chunks of interleaved audio into frames of a
// fixed length (e.g. 20 ms for one Opus packet), and tells each frame's first
// sample time. Chunks may be any size and need not line up with frames.
// Thread: loop (one owner).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace clubvoice {

class FrameAssembler {
  public:
    FrameAssembler(std::size_t frame_length, std::size_t channels, unsigned rate_hz)
        : channels_(channels), rate_hz_(rate_hz), frame_(frame_length * channels) {}

    std::size_t frame_length() const { return frame_.size() / channels_; }  // samples per channel
    std::size_t channels() const { return channels_; }
    // Samples per channel waiting for the rest of their frame.
    std::size_t pending() const { return filled_ / channels_; }
    void clear() { filled_ = 0; }

    // Appends a chunk whose first sample was taken at `first_sample_ns` (any
    // clock); calls emit(std::span<float> frame, std::int64_t first_sample_ns)
    // for each frame it completes. `emit` may modify the frame in place.
    template <typename Emit>
    void add(std::int64_t first_sample_ns, std::span<const float> interleaved, Emit&& emit) {
        std::size_t offset = 0;  // samples (all channels) of the chunk used so far
        while (offset < interleaved.size()) {
            if (filled_ == 0) {
                frame_start_ns_ = first_sample_ns + ns_for(offset / channels_);
            }
            const std::size_t n = std::min(interleaved.size() - offset, frame_.size() - filled_);
            std::copy_n(interleaved.begin() + static_cast<std::ptrdiff_t>(offset), n,
                        frame_.begin() + static_cast<std::ptrdiff_t>(filled_));
            filled_ += n;
            offset += n;
            if (filled_ == frame_.size()) {
                filled_ = 0;
                emit(std::span<float>(frame_), frame_start_ns_);
            }
        }
    }

  private:
    std::int64_t ns_for(std::size_t samples) const {
        return static_cast<std::int64_t>(samples) * 1'000'000'000 / rate_hz_;
    }

    std::size_t channels_;
    unsigned rate_hz_;
    std::vector<float> frame_;
    std::size_t filled_ = 0;  // samples (all channels) in frame_
    std::int64_t frame_start_ns_ = 0;
};

}  // namespace clubvoice
