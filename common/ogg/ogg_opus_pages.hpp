// The Ogg pages of one Ogg Opus logical stream (RFC 7845), built with libogg
// from Opus packets the caller already encoded: the identification header
// (OpusHead) and the comment header (OpusTags), each on a page of its own,
// then audio pages of about `page_samples` each. A page's granule position
// counts the 48 kHz samples of every packet completed up to it, from the
// stream's first sample (the pre-skip included, as RFC 7845 section 4 has it).
//
// A reader who joins a live stream later gets the same header pages and then
// the next audio pages renumbered (renumber_pages()), so that its stream, too,
// counts pages from 0 without a gap. No sockets, no files: one builder feeds
// any number of readers or a file. Thread: one owner.
#pragma once

#include <ogg/ogg.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

struct OggOpusSettings {
    int channels = 1;          // 1 or 2 (channel mapping family 0)
    int pre_skip = 312;        // 48 kHz samples a decoder drops at the start: the encoder's
                               // lookahead (OPUS_GET_LOOKAHEAD)
    std::uint32_t serial = 0;  // the logical stream's serial number (random, RFC 3533)
    std::string vendor;        // OpusTags' vendor string (the encoder's)
    std::vector<std::string> comments;  // OpusTags' user comments, "KEY=value"
    int page_samples = 1920;            // an audio page closes once it holds this much (40 ms)
};

class OggOpusPages {
  public:
    // Throws std::invalid_argument for settings RFC 7845 cannot carry.
    explicit OggOpusPages(OggOpusSettings settings);
    OggOpusPages(const OggOpusPages&) = delete;
    OggOpusPages& operator=(const OggOpusPages&) = delete;
    ~OggOpusPages() = default;

    const OggOpusSettings& settings() const { return settings_; }

    // Appends the two header pages (numbered 0 and 1) to `out`.
    void append_headers(std::string& out) const { out += headers_; }

    // Adds one Opus packet. When it completes a page, appends the page to
    // `out` and returns true; otherwise the packet waits for the page's next
    // ones. Throws std::invalid_argument (and adds nothing) for a packet whose
    // duration libopus cannot read. With `last`, the packet ends the logical
    // stream: its page is flushed at once and carries the end-of-stream flag
    // (a recording's last page); nothing may be added after it.
    bool add(std::string_view packet, std::string& out, bool last = false);

    // The sequence number the next audio page will carry (the first is 2).
    std::uint32_t next_sequence() const { return next_sequence_; }
    // Samples (48 kHz, per channel) of every packet added so far.
    std::int64_t granule() const { return granule_; }

  private:
    // RAII over libogg's stream state (ogg_stream_init / ogg_stream_clear).
    class OggStream {
      public:
        explicit OggStream(int serial);
        ~OggStream() { ogg_stream_clear(&state_); }
        OggStream(const OggStream&) = delete;
        OggStream& operator=(const OggStream&) = delete;
        ogg_stream_state* get() { return &state_; }

      private:
        ogg_stream_state state_{};
    };

    void packet_in(std::string_view data, bool first, std::int64_t granule, bool last = false);
    // Appends every page libogg holds (normally one) to `out`; returns how many.
    int flush_to(std::string& out);

    OggOpusSettings settings_;
    OggStream stream_;
    std::int64_t packet_number_ = 0;
    std::int64_t granule_ = 0;
    std::int64_t samples_in_page_ = 0;
    std::uint32_t next_sequence_ = 2;
    std::string headers_;  // the OpusHead and OpusTags pages
};

// Lowers the sequence number of every page in `pages` (whole pages, back to
// back, as add() appends them) by `offset`, and sets their CRCs to match:
// 4 bytes and a CRC over a page of a few hundred bytes. Throws
// std::invalid_argument when `pages` does not hold whole pages.
void renumber_pages(std::span<unsigned char> pages, std::uint32_t offset);

// The identification and comment header packets (RFC 7845 sections 5.1, 5.2).
std::string opus_head_packet(int channels, int pre_skip);
std::string opus_tags_packet(std::string_view vendor, const std::vector<std::string>& comments);

}  // namespace clubvoice
