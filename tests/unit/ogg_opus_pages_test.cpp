// The Ogg Opus page builder, read back with libogg's own parser
// (ogg_sync / ogg_stream): header pages as RFC 7845 has them, audio pages
// with granule positions in 48 kHz samples, consecutive sequence numbers and
// valid CRCs, the packets unchanged, and a reader joining mid-stream that
// gets a stream valid on its own.
#include "ogg_opus_pages.hpp"

#include <gtest/gtest.h>
#include <ogg/ogg.h>
#include <opus/opus.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace clubvoice {
namespace {

// Real Opus packets of a 440 Hz tone, `frame_ms` each.
std::vector<std::string> tone_packets(int count, int frame_ms, int channels = 1) {
    int error = 0;
    std::unique_ptr<OpusEncoder, decltype(&opus_encoder_destroy)> encoder(
        opus_encoder_create(48000, channels, OPUS_APPLICATION_AUDIO, &error),
        &opus_encoder_destroy);
    EXPECT_EQ(error, OPUS_OK);
    const int samples = 48 * frame_ms;
    std::vector<float> pcm(static_cast<std::size_t>(samples * channels));
    std::vector<std::string> packets;
    std::vector<unsigned char> out(4000);
    for (int p = 0; p < count; ++p) {
        for (int i = 0; i < samples; ++i) {
            const double t = static_cast<double>(p * samples + i) / 48000.0;
            for (int c = 0; c < channels; ++c) {
                pcm[static_cast<std::size_t>(i * channels + c)] =
                    static_cast<float>(0.3 * std::sin(2 * M_PI * 440 * t));
            }
        }
        const int n = opus_encode_float(encoder.get(), pcm.data(), samples, out.data(),
                                        static_cast<opus_int32>(out.size()));
        EXPECT_GT(n, 0);
        packets.emplace_back(reinterpret_cast<const char*>(out.data()),
                             static_cast<std::size_t>(n));
    }
    return packets;
}

struct Page {
    std::string bytes;
    long sequence;
    std::int64_t granule;
    std::uint32_t serial;
    bool bos;
    bool continued;
};
struct Packet {
    std::string bytes;
    std::int64_t granule;
    bool bos;
};
struct Parsed {
    std::vector<Page> pages;
    std::vector<Packet> packets;
    int holes = 0;       // gaps libogg found in the page sequence
    int sync_skips = 0;  // bytes libogg could not read as a page (a bad CRC, say)
};

// What a demuxer built on libogg (VLC, Firefox, GStreamer) sees in `bytes`.
Parsed parse(const std::string& bytes) {
    Parsed out;
    ogg_sync_state sync;
    ogg_sync_init(&sync);
    char* buffer = ogg_sync_buffer(&sync, static_cast<long>(bytes.size()));
    std::copy(bytes.begin(), bytes.end(), buffer);
    ogg_sync_wrote(&sync, static_cast<long>(bytes.size()));
    ogg_stream_state stream;
    bool stream_started = false;
    ogg_page page;
    for (;;) {
        const int got = ogg_sync_pageout(&sync, &page);
        if (got == 0) break;
        if (got < 0) {
            ++out.sync_skips;
            continue;
        }
        out.pages.push_back({std::string(reinterpret_cast<const char*>(page.header),
                                         static_cast<std::size_t>(page.header_len)) +
                                 std::string(reinterpret_cast<const char*>(page.body),
                                             static_cast<std::size_t>(page.body_len)),
                             ogg_page_pageno(&page), ogg_page_granulepos(&page),
                             static_cast<std::uint32_t>(ogg_page_serialno(&page)),
                             ogg_page_bos(&page) != 0, ogg_page_continued(&page) != 0});
        if (!stream_started) {
            ogg_stream_init(&stream, ogg_page_serialno(&page));
            stream_started = true;
        }
        EXPECT_EQ(ogg_stream_pagein(&stream, &page), 0);
        ogg_packet packet;
        for (int r; (r = ogg_stream_packetout(&stream, &packet)) != 0;) {
            if (r < 0) {
                ++out.holes;
                continue;
            }
            out.packets.push_back({std::string(reinterpret_cast<const char*>(packet.packet),
                                               static_cast<std::size_t>(packet.bytes)),
                                   packet.granulepos, packet.b_o_s != 0});
        }
    }
    if (stream_started) ogg_stream_clear(&stream);
    ogg_sync_clear(&sync);
    return out;
}

std::uint32_t le32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
    }
    return v;
}

OggOpusSettings settings(int channels = 1, int page_samples = 1920) {
    OggOpusSettings s;
    s.channels = channels;
    s.pre_skip = 312;
    s.serial = 0x12345678;
    s.vendor = "libopus test";
    s.comments = {"ENCODER=clubvoiced test"};
    s.page_samples = page_samples;
    return s;
}

TEST(OggOpusPages, HeadersAreTwoPagesAsRfc7845HasThem) {
    OggOpusPages pages(settings(2));
    std::string bytes;
    pages.append_headers(bytes);
    const Parsed parsed = parse(bytes);
    EXPECT_EQ(parsed.sync_skips, 0);
    ASSERT_EQ(parsed.pages.size(), 2U) << "each header on a page of its own";
    EXPECT_TRUE(parsed.pages[0].bos);
    EXPECT_FALSE(parsed.pages[1].bos);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(parsed.pages[i].sequence, static_cast<long>(i));
        EXPECT_EQ(parsed.pages[i].granule, 0);
        EXPECT_EQ(parsed.pages[i].serial, 0x12345678U);
    }
    ASSERT_EQ(parsed.packets.size(), 2U);
    const std::string& head = parsed.packets[0].bytes;
    ASSERT_EQ(head.size(), 19U);
    EXPECT_EQ(head.substr(0, 8), "OpusHead");
    EXPECT_EQ(head[8], 1) << "version";
    EXPECT_EQ(head[9], 2) << "channels";
    EXPECT_EQ(static_cast<unsigned char>(head[10]) | static_cast<unsigned char>(head[11]) << 8, 312)
        << "pre-skip";
    EXPECT_EQ(le32(head, 12), 48000U);
    EXPECT_EQ(head[16], 0);
    EXPECT_EQ(head[17], 0) << "output gain";
    EXPECT_EQ(head[18], 0) << "mapping family";
    const std::string& tags = parsed.packets[1].bytes;
    EXPECT_EQ(tags.substr(0, 8), "OpusTags");
    EXPECT_EQ(le32(tags, 8), 12U);
    EXPECT_EQ(tags.substr(12, 12), "libopus test");
    EXPECT_EQ(le32(tags, 24), 1U);
    EXPECT_EQ(le32(tags, 28), 23U);
    EXPECT_EQ(tags.substr(32), "ENCODER=clubvoiced test");
}

TEST(OggOpusPages, AudioPagesCountSamplesAndFollowTheHeaders) {
    const std::vector<std::string> packets = tone_packets(50, 20);
    OggOpusPages pages(settings());
    std::string stream;
    pages.append_headers(stream);
    int closed = 0;
    for (const std::string& packet : packets) closed += pages.add(packet, stream) ? 1 : 0;
    EXPECT_EQ(closed, 25) << "a page per 40 ms: two 20 ms packets";
    EXPECT_EQ(pages.granule(), 50 * 960);
    EXPECT_EQ(pages.next_sequence(), 27U);

    const Parsed parsed = parse(stream);
    EXPECT_EQ(parsed.sync_skips, 0) << "every CRC is right";
    EXPECT_EQ(parsed.holes, 0);
    ASSERT_EQ(parsed.pages.size(), 27U);
    for (std::size_t i = 0; i < parsed.pages.size(); ++i) {
        const Page& page = parsed.pages[i];
        EXPECT_EQ(page.sequence, static_cast<long>(i));
        EXPECT_EQ(page.serial, 0x12345678U);
        EXPECT_FALSE(page.continued);
        if (i >= 2) {
            EXPECT_EQ(page.granule, static_cast<std::int64_t>(i - 1) * 1920) << i;
        }
        // The CRC libogg computes for the page is the one it carries.
        std::string copy = page.bytes;
        ogg_page view{};
        view.header = reinterpret_cast<unsigned char*>(copy.data());
        view.header_len = 27 + static_cast<unsigned char>(copy[26]);
        view.body = view.header + view.header_len;
        view.body_len = static_cast<long>(copy.size()) - view.header_len;
        ogg_page_checksum_set(&view);
        EXPECT_EQ(copy, page.bytes) << "page " << i;
    }
    ASSERT_EQ(parsed.packets.size(), 52U);
    for (std::size_t i = 0; i < packets.size(); ++i) {
        EXPECT_EQ(parsed.packets[i + 2].bytes, packets[i]) << "packet " << i;
    }
    // The decoded length: the last granule, less the pre-skip.
    EXPECT_EQ(parsed.pages.back().granule - 312, 50 * 960 - 312);
}

TEST(OggOpusPages, TheLastPacketEndsTheStreamOnAPageOfItsOwn) {
    const std::vector<std::string> packets = tone_packets(5, 20);
    OggOpusPages pages(settings());
    std::string stream;
    pages.append_headers(stream);
    for (std::size_t i = 0; i + 1 < packets.size(); ++i) pages.add(packets[i], stream);
    EXPECT_TRUE(pages.add(packets.back(), stream, true)) << "flushed at once, half a page or not";
    const Parsed parsed = parse(stream);
    EXPECT_EQ(parsed.sync_skips, 0);
    ASSERT_EQ(parsed.pages.size(), 5U);
    for (const Page& page : parsed.pages) {
        const bool eos = (static_cast<unsigned char>(page.bytes[5]) & 0x04) != 0;
        EXPECT_EQ(eos, &page == &parsed.pages.back()) << "page " << page.sequence;
    }
    EXPECT_EQ(parsed.pages.back().granule, 5 * 960);
    EXPECT_EQ(parsed.packets.size(), 7U);
}

TEST(OggOpusPages, PagesHoldAboutTheirTargetWhateverTheFrame) {
    for (const auto& [frame_ms, per_page] : {std::pair{10, 4}, {20, 2}, {40, 1}, {60, 1}}) {
        OggOpusPages pages(settings());
        std::string out;
        int closed = 0;
        for (const std::string& packet : tone_packets(12, frame_ms)) {
            closed += pages.add(packet, out) ? 1 : 0;
        }
        EXPECT_EQ(closed, 12 / per_page) << frame_ms << " ms";
        EXPECT_EQ(pages.granule(), 12 * 48 * frame_ms);
    }
}

TEST(OggOpusPages, AReaderJoiningLaterGetsAStreamValidOnItsOwn) {
    // As HttpStream serves one: the header pages, then the shared pages from
    // the next one on, renumbered to follow them.
    const std::vector<std::string> packets = tone_packets(40, 20);
    OggOpusPages pages(settings());
    std::string shared;  // what a reader from the start got: audio pages 2 to 11
    for (std::size_t i = 0; i < 20; ++i) pages.add(packets[i], shared);
    pages.add(packets[20], shared);  // a packet waits in the next page while the reader joins

    const std::uint32_t offset = pages.next_sequence() - 2;
    EXPECT_EQ(offset, 10U);
    std::string joiner;
    pages.append_headers(joiner);
    for (std::size_t i = 21; i < packets.size(); ++i) {
        std::string page;
        if (!pages.add(packets[i], page)) continue;
        renumber_pages({reinterpret_cast<unsigned char*>(page.data()), page.size()}, offset);
        joiner += page;
    }

    const Parsed parsed = parse(joiner);
    EXPECT_EQ(parsed.sync_skips, 0) << "the CRCs follow the new numbers";
    EXPECT_EQ(parsed.holes, 0) << "no gap";
    ASSERT_EQ(parsed.pages.size(), 12U);
    EXPECT_TRUE(parsed.pages[0].bos);
    for (std::size_t i = 0; i < parsed.pages.size(); ++i) {
        EXPECT_EQ(parsed.pages[i].sequence, static_cast<long>(i));
        EXPECT_EQ(parsed.pages[i].bos, i == 0);
    }
    EXPECT_EQ(parsed.pages[0].granule, 0);
    EXPECT_EQ(parsed.pages[1].granule, 0);
    // The first audio page holds packets 20 and 21 and ends at their last
    // sample: more than its own samples, so the stream starts later (RFC 7845
    // section 4.5), 20 frames in.
    EXPECT_EQ(parsed.pages[2].granule, 22 * 960);
    ASSERT_EQ(parsed.packets.size(), 2U + 20U);
    EXPECT_EQ(parsed.packets[0].bytes.substr(0, 8), "OpusHead");
    EXPECT_EQ(parsed.packets[1].bytes.substr(0, 8), "OpusTags");
    for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(parsed.packets[2 + i].bytes, packets[20 + i]);
}

TEST(OggOpusPages, RenumberingChangesOnlyTheNumberAndTheCrc) {
    const std::vector<std::string> packets = tone_packets(8, 20);
    OggOpusSettings one_per_page = settings(1, 960);
    OggOpusPages pages(one_per_page);
    std::string original;
    for (const std::string& packet : packets) pages.add(packet, original);
    std::string copy = original;  // eight pages back to back, numbered 2 to 9
    renumber_pages({reinterpret_cast<unsigned char*>(copy.data()), copy.size()}, 2);
    const Parsed a = parse(original);
    const Parsed b = parse(copy);
    ASSERT_EQ(b.pages.size(), 8U);
    EXPECT_EQ(b.sync_skips, 0);
    for (std::size_t i = 0; i < 8; ++i) {
        EXPECT_EQ(a.pages[i].sequence, static_cast<long>(i) + 2);
        EXPECT_EQ(b.pages[i].sequence, static_cast<long>(i));
        EXPECT_EQ(b.pages[i].granule, a.pages[i].granule);
        // Equal but for the number (bytes 18-21) and the CRC (22-25).
        std::string x = a.pages[i].bytes;
        std::string y = b.pages[i].bytes;
        x.replace(18, 8, 8, '\0');
        y.replace(18, 8, 8, '\0');
        EXPECT_EQ(x, y);
    }
    std::string cut = original.substr(0, original.size() - 1);
    EXPECT_THROW(renumber_pages({reinterpret_cast<unsigned char*>(cut.data()), cut.size()}, 1),
                 std::invalid_argument);
}

TEST(OggOpusPages, RefusesWhatItCannotCarry) {
    EXPECT_THROW(OggOpusPages(settings(3)), std::invalid_argument);
    EXPECT_THROW(OggOpusPages(settings(0)), std::invalid_argument);
    OggOpusSettings bad = settings();
    bad.pre_skip = 70000;
    EXPECT_THROW(OggOpusPages{bad}, std::invalid_argument);
    bad = settings(1, 0);
    EXPECT_THROW(OggOpusPages{bad}, std::invalid_argument);

    OggOpusPages pages(settings());
    std::string out;
    EXPECT_THROW(pages.add("", out), std::invalid_argument);
    EXPECT_THROW(pages.add(std::string("\xff", 1), out), std::invalid_argument)
        << "code 3 without its frame count byte";
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(pages.granule(), 0);
}

}  // namespace
}  // namespace clubvoice
