#include "ogg_opus_pages.hpp"

#include <opus/opus.h>

#include <new>
#include <stdexcept>
#include <utility>

namespace clubvoice {
namespace {

constexpr int kSampleRateHz = 48000;  // Opus granule positions always count 48 kHz samples
// Byte offsets in a page header (RFC 3533 section 6).
constexpr std::size_t kSequenceOffset = 18;
constexpr std::size_t kSegmentCountOffset = 26;
constexpr std::size_t kFixedHeaderBytes = 27;

void put_le(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void append_page(const ogg_page& page, std::string& out) {
    out.append(reinterpret_cast<const char*>(page.header),
               static_cast<std::size_t>(page.header_len));
    out.append(reinterpret_cast<const char*>(page.body), static_cast<std::size_t>(page.body_len));
}

std::uint32_t get_le32(const unsigned char* bytes) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(bytes[i]) << (8 * i);
    return value;
}

}  // namespace

std::string opus_head_packet(int channels, int pre_skip) {
    std::string head = "OpusHead";
    head.push_back(1);  // version
    head.push_back(static_cast<char>(channels));
    put_le(head, static_cast<std::uint64_t>(pre_skip), 2);
    put_le(head, kSampleRateHz, 4);  // the input's rate, for information: ours is 48 kHz
    put_le(head, 0, 2);              // output gain
    head.push_back(0);               // channel mapping family 0: mono or stereo
    return head;
}

std::string opus_tags_packet(std::string_view vendor, const std::vector<std::string>& comments) {
    std::string tags = "OpusTags";
    put_le(tags, vendor.size(), 4);
    tags += vendor;
    put_le(tags, comments.size(), 4);
    for (const std::string& comment : comments) {
        put_le(tags, comment.size(), 4);
        tags += comment;
    }
    return tags;
}

OggOpusPages::OggStream::OggStream(int serial) {
    if (ogg_stream_init(&state_, serial) != 0) throw std::bad_alloc();
}

OggOpusPages::OggOpusPages(OggOpusSettings settings)
    : settings_(std::move(settings)), stream_(static_cast<int>(settings_.serial)) {
    if (settings_.channels < 1 || settings_.channels > 2) {
        throw std::invalid_argument("Ogg Opus: channel mapping family 0 carries 1 or 2 channels");
    }
    if (settings_.pre_skip < 0 || settings_.pre_skip > 0xffff) {
        throw std::invalid_argument("Ogg Opus: the pre-skip must fit in 16 bits");
    }
    if (settings_.page_samples <= 0) {
        throw std::invalid_argument("Ogg Opus: a page must hold some audio");
    }
    // Each header on a page of its own (RFC 7845 section 3); libogg marks the
    // first page as the beginning of the stream. Both have granule position 0.
    packet_in(opus_head_packet(settings_.channels, settings_.pre_skip), true, 0);
    flush_to(headers_);
    packet_in(opus_tags_packet(settings_.vendor, settings_.comments), false, 0);
    flush_to(headers_);
}

void OggOpusPages::packet_in(std::string_view data, bool first, std::int64_t granule, bool last) {
    ogg_packet packet{};
    // libogg copies the bytes; it never writes through this pointer.
    packet.packet = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
    packet.bytes = static_cast<long>(data.size());
    packet.b_o_s = first ? 1 : 0;
    packet.e_o_s = last ? 1 : 0;
    packet.granulepos = granule;
    packet.packetno = packet_number_++;
    if (ogg_stream_packetin(stream_.get(), &packet) != 0) throw std::bad_alloc();
}

int OggOpusPages::flush_to(std::string& out) {
    ogg_page page{};
    int pages = 0;
    while (ogg_stream_flush(stream_.get(), &page) != 0) {
        append_page(page, out);
        ++pages;
    }
    return pages;
}

bool OggOpusPages::add(std::string_view packet, std::string& out, bool last) {
    const int samples = packet.empty() ? OPUS_INVALID_PACKET
                                       : opus_packet_get_nb_samples(
                                             reinterpret_cast<const unsigned char*>(packet.data()),
                                             static_cast<opus_int32>(packet.size()), kSampleRateHz);
    if (samples <= 0) {
        throw std::invalid_argument("Ogg Opus: not an Opus packet (its duration is unreadable)");
    }
    granule_ += samples;
    samples_in_page_ += samples;
    packet_in(packet, false, granule_, last);
    if (!last && samples_in_page_ < settings_.page_samples) return false;
    samples_in_page_ = 0;
    const int pages = flush_to(out);
    next_sequence_ += static_cast<std::uint32_t>(pages);
    return pages > 0;
}

void renumber_pages(std::span<unsigned char> pages, std::uint32_t offset) {
    std::size_t at = 0;
    while (at < pages.size()) {
        unsigned char* page = pages.data() + at;
        const std::size_t left = pages.size() - at;
        if (left < kFixedHeaderBytes || left < kFixedHeaderBytes + page[kSegmentCountOffset]) {
            throw std::invalid_argument("Ogg: a page header is cut short");
        }
        const std::size_t header_len = kFixedHeaderBytes + page[kSegmentCountOffset];
        std::size_t body_len = 0;
        for (std::size_t i = kFixedHeaderBytes; i < header_len; ++i) body_len += page[i];
        if (left - header_len < body_len) throw std::invalid_argument("Ogg: a page is cut short");
        const std::uint32_t sequence = get_le32(page + kSequenceOffset) - offset;
        for (std::size_t i = 0; i < 4; ++i) {
            page[kSequenceOffset + i] = static_cast<unsigned char>((sequence >> (8 * i)) & 0xff);
        }
        ogg_page view{};
        view.header = page;
        view.header_len = static_cast<long>(header_len);
        view.body = page + header_len;
        view.body_len = static_cast<long>(body_len);
        ogg_page_checksum_set(&view);  // zeroes the old CRC, then writes the new one
        at += header_len + body_len;
    }
}

}  // namespace clubvoice
