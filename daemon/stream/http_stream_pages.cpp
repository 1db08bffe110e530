// HttpStream, page side: the logical stream's pages, built once for every
// reader, and writing them: at once to a reader that keeps up, from its
// writeable callback to one that fell behind. Thread: loop.
#include "http_stream.hpp"

#include "log.hpp"
#include "loop_thread.hpp"
#include "version.hpp"

#include <fmt/format.h>
#include <opus/opus.h>

#include <random>
#include <utility>

namespace clubvoice {
namespace {

// An audio page closes once it holds 40 ms: two packets at the default 20 ms
// frames. A page per frame would cost a send() per reader per frame and 28
// header bytes per packet; 40 ms adds 20 ms of delay, well within the buffer
// a player keeps anyway (the web pages are the low-latency path).
constexpr int kPageSamples = 1920;
// Pages one writeable callback may write (each checked to have left whole).
constexpr int kWritesPerCallback = 16;

std::uint32_t random_serial() {
    std::random_device random;
    return static_cast<std::uint32_t>(random());
}

}  // namespace

int opus_encoder_lookahead(int channels, OpusApplication application) {
    int error = OPUS_OK;
    std::unique_ptr<::OpusEncoder, decltype(&opus_encoder_destroy)> encoder(
        opus_encoder_create(
            48000, channels,
            application == OpusApplication::voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO,
            &error),
        &opus_encoder_destroy);
    // 312 is libopus' lookahead at 48 kHz outside its restricted low-delay
    // mode (2.5 ms + 4 ms); asked anyway, so a libopus that differs is heard.
    opus_int32 lookahead = 312;
    if (encoder && opus_encoder_ctl(encoder.get(), OPUS_GET_LOOKAHEAD(&lookahead)) != OPUS_OK) {
        lookahead = 312;
    }
    return static_cast<int>(lookahead);
}

OggOpusSettings room_stream_settings(int channels, OpusApplication application, int page_samples) {
    OggOpusSettings settings;
    settings.channels = channels;
    settings.pre_skip = opus_encoder_lookahead(channels, application);
    settings.serial = random_serial();
    settings.vendor = opus_get_version_string();
    settings.comments = {fmt::format("ENCODER=clubvoiced {}", kVersion)};
    settings.page_samples = page_samples;
    return settings;
}

void HttpStream::start_logical_stream(int channels) {
    if (pages_) {
        ++counters_.restarts;
        log::notice("stream: a new Ogg stream begins ({} channels); {} readers closed", channels,
                    listeners_.size());
        close_all();
    }
    pages_ = std::make_unique<OggOpusPages>(
        room_stream_settings(channels, config_.opus.application, kPageSamples));
    headers_.assign(LWS_PRE, '\0');
    pages_->append_headers(headers_);
}

void HttpStream::publish(std::string_view opus, int channels) {
    assert_on_loop();
    if (channels != pages_->settings().channels) start_logical_stream(channels);
    std::string page(LWS_PRE, '\0');
    const std::uint32_t before = pages_->next_sequence();
    if (!pages_->add(opus, page)) return;
    counters_.pages += pages_->next_sequence() - before;
    fanout_.push(std::make_shared<const std::string>(std::move(page)));

    const std::uint64_t now = uv_now(loop_);
    std::vector<Listener*> too_slow;
    std::vector<Listener*> broken;
    for (auto& [wsi, listener] : listeners_) {
        if (!fanout_.keeps_up(listener->reader, now)) {
            too_slow.push_back(listener.get());
            continue;
        }
        switch (write_direct(*listener)) {
            case Write::done:
                break;
            case Write::needs_callback:
                request_write(*listener);
                break;
            case Write::failed:
                broken.push_back(listener.get());
                break;
        }
    }
    // Cut only now: cutting erases from listeners_, which the loop above walks.
    for (Listener* listener : broken) cut(*listener, "write failed");
    for (Listener* listener : too_slow) {
        ++counters_.readers_cut;
        log::warning("stream: {}: closed, took no audio for {} ms ({} pages dropped)",
                     listener->peer, now - listener->reader.lagging_since_ms,
                     fanout_.lost(listener->reader));
        cut(*listener, "too slow");
    }
}

// Every reader's stream counts its pages from 0: the header pages, then the
// shared pages lowered by the reader's offset (the page number its first page
// carried in the shared sequence, less 2). Shared pages are numbered for a
// reader who was there from the start and are written to such readers as
// they are; for the others a copy gets its 4-byte number and its CRC redone
// (renumber_pages), about 0.1 us for a page of a few hundred bytes against
// the several us of the send() itself. Demuxers built on libogg (VLC,
// Firefox, GStreamer) read a first page numbered anything but 0 as a lost
// page, so sharing the numbers as they are would start every later reader
// with a reported loss; a logical stream per reader would build every page
// once per reader. A reader that skips pages shows the gap in its numbers (a
// lost page, as it is); a later reader's first audio page has a granule
// position above its own samples, which RFC 7845 (section 4.5) reads as a
// stream that starts later, as a live stream joined midway does.
int HttpStream::write_page(Listener& listener, const std::string& page) {
    const std::string* bytes = &page;
    if (listener.sequence_offset != 0) {
        scratch_ = page;
        renumber_pages({reinterpret_cast<unsigned char*>(scratch_.data()) + LWS_PRE,
                        scratch_.size() - LWS_PRE},
                       listener.sequence_offset);
        bytes = &scratch_;
    }
    // lws leaves HTTP body bytes as they are on an HTTP/1.1 connection
    // without chunking or compression (ours), and keeps what the kernel does
    // not take at once, so one buffer serves every reader in turn.
    auto* data = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes->data())) + LWS_PRE;
    const std::size_t size = bytes->size() - LWS_PRE;
    if (lws_write(listener.wsi, data, size, LWS_WRITE_HTTP) < 0) return -1;
    counters_.bytes += size;
    return 0;
}

// The fan-out's fast path, as for Socket.IO listeners (eio_websocket.cpp): a
// reader whose socket took everything so far gets the new page at once;
// asking lws for a writeable callback instead costs poll-interest changes.
HttpStream::Write HttpStream::write_direct(Listener& listener) {
    if (listener.write_requested || listener.headers_due ||
        lws_partial_buffered(listener.wsi) != 0) {
        return Write::needs_callback;
    }
    const PagePtr* page = fanout_.take(listener.reader);
    if (page == nullptr) return Write::done;
    if (write_page(listener, **page) != 0) return Write::failed;
    const bool more = fanout_.pending(listener.reader) || lws_partial_buffered(listener.wsi) != 0;
    return more ? Write::needs_callback : Write::done;
}

int HttpStream::on_http_writeable(lws* wsi, WsiState& state) {
    if (state.kind == kCut) return -1;  // closed by the server: lws ends it
    auto* listener = static_cast<Listener*>(state.session);
    if (listener == nullptr || listener->wsi != wsi) return 0;  // a spare callback
    listener->write_requested = false;
    return write_pending(*listener);
}

int HttpStream::write_pending(Listener& listener) {
    if (listener.headers_due) {
        // The same bytes for every reader of this logical stream: pages 0 and 1.
        auto* data = reinterpret_cast<unsigned char*>(headers_.data()) + LWS_PRE;
        const std::size_t size = headers_.size() - LWS_PRE;
        if (lws_write(listener.wsi, data, size, LWS_WRITE_HTTP) < 0) return -1;
        counters_.bytes += size;
        listener.headers_due = false;
    }
    for (int i = 0; i < kWritesPerCallback && lws_partial_buffered(listener.wsi) == 0; ++i) {
        const PagePtr* page = fanout_.take(listener.reader);
        if (page == nullptr) break;
        if (write_page(listener, **page) != 0) return -1;
    }
    if (fanout_.pending(listener.reader) || lws_partial_buffered(listener.wsi) != 0) {
        request_write(listener);
    }
    return 0;
}

void HttpStream::request_write(Listener& listener) {
    if (listener.write_requested) return;
    listener.write_requested = true;
    lws_callback_on_writable(listener.wsi);
}

}  // namespace clubvoice
