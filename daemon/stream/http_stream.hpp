// GET /stream.opus (and HEAD): the room as an endless Ogg Opus response
// (RFC 7845) for players (mpv, VLC, a phone's radio app) and programs that
// would rather not speak Socket.IO. It carries the Opus packets the audio
// engine already encoded for the Socket.IO listeners (no second encoder), in
// Ogg pages built once (OggOpusPages) and shared by every reader through one
// ring (StreamFanout, as the Socket.IO fan-out shares its packets): a reader
// is a place in that ring, so a slow one skips whole pages (counted) and one
// that stays behind is cut, and neither costs memory nor delays the others.
// The access rules and the client limits are the Socket.IO listeners'.
//
// Each reader's response is a valid Ogg stream on its own: the two header
// pages, then the shared pages renumbered to follow them without a gap
// (write_page() in http_stream_pages.cpp says why this way). Thread: loop.
#pragma once

#include "access_policy.hpp"
#include "config.hpp"
#include "connection_handler.hpp"
#include "connection_limits.hpp"
#include "http_responder.hpp"
#include "metrics.hpp"
#include "ogg_opus_pages.hpp"
#include "stream_fanout.hpp"

#include <libwebsockets.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace clubvoice {

class HttpStream final : public ConnectionHandler {
  public:
    static constexpr std::string_view kPath = "/stream.opus";

    // `config` and `access` are the daemon's live ones (a reload changes them
    // in place); `limits` are shared with the Socket.IO sessions, so that
    // server.max_clients and the per-address limits count both.
    HttpStream(uv_loop_t* loop, const Config& config, const AccessPolicy& access,
               ConnectionLimits& limits, HttpResponder& responder);
    ~HttpStream() override;
    HttpStream(const HttpStream&) = delete;
    HttpStream& operator=(const HttpStream&) = delete;

    void set_trusted_proxies(std::vector<IpNetwork> networks) {
        trusted_proxies_ = std::move(networks);
    }

    // One encoded Opus packet of `channels` channels (the audio engine's
    // frame): into the current page, and when that closes, out to every reader.
    void publish(std::string_view opus, int channels);
    // After a reload: closes the readers the access rules no longer admit.
    void config_changed();
    // Closes every reader, for shutdown.
    void close_all();

    struct Figures {
        std::size_t listeners = 0;
        std::uint64_t opened = 0, pages = 0, bytes = 0, pages_dropped = 0, readers_cut = 0;
        std::uint64_t invalid_queries = 0, token_refused = 0, limit_refused = 0, revoked = 0;
        std::uint64_t restarts = 0;
    };
    Figures figures() const;
    // clubvoice_stream_* (/status: "stream").
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics

    // The lws host (WebServer) hands these over.
    bool owns_path(std::string_view path) const override { return path == kPath; }
    int on_http(lws* wsi, WsiState& state, std::string_view method) override;
    int on_http_body(lws* /*wsi*/, WsiState& /*state*/, std::string_view /*chunk*/) override {
        return 0;  // a body sent with GET is read and dropped
    }
    int on_http_body_done(lws* /*wsi*/, WsiState& /*state*/) override { return 0; }
    int on_http_writeable(lws* wsi, WsiState& state) override;
    void on_http_closed(lws* wsi, WsiState& state) override;
    std::optional<HttpResponse> on_ws_filter(lws* wsi) override;
    int on_ws_established(lws* /*wsi*/, WsiState& /*state*/) override { return -1; }
    int on_ws_receive(lws* /*wsi*/, WsiState& /*state*/, std::string_view /*data*/) override {
        return -1;
    }
    int on_ws_writeable(lws* /*wsi*/, WsiState& /*state*/) override { return -1; }
    void on_ws_closed(lws* /*wsi*/, WsiState& /*state*/) override {}
    void on_callback_error(WsiState& state, int lws_reason) noexcept override;

  private:
    // Page bytes with LWS_PRE bytes of headroom, shared by every reader.
    using PagePtr = std::shared_ptr<const std::string>;

    struct Listener {
        lws* wsi = nullptr;
        IpAddress client;
        std::string peer;                   // the client's address as text, for log lines
        std::optional<AccessToken> token;   // the entry it was admitted with (never the token)
        StreamReader reader;                // its place in the ring
        std::uint32_t sequence_offset = 0;  // shared page numbers less its own
        bool headers_due = true;            // the header pages are still to be written
        bool write_requested = false;
    };
    enum class Write { done, needs_callback, failed };
    // What a /stream.opus connection is doing (WsiState::kind).
    enum Kind : int { kNone = 0, kStreaming = 1, kCut = 2 };

    // A refusal (counted by the caller), or nullopt to serve the request.
    std::optional<HttpResponse> check_request(lws* wsi, const IpAddress& client,
                                              std::optional<AccessToken>& token);
    int open_listener(lws* wsi, WsiState& state, const IpAddress& client,
                      std::optional<AccessToken> token);
    // A new logical stream: new serial, header pages for the encoder's
    // current channels and lookahead.
    void start_logical_stream(int channels);
    int write_page(Listener& listener, const std::string& page);
    Write write_direct(Listener& listener);
    int write_pending(Listener& listener);
    void request_write(Listener& listener);
    // Ends a reader's response from the server's side.
    void cut(Listener& listener, std::string_view why);
    void forget(Listener& listener);

    uv_loop_t* loop_;
    const Config& config_;
    const AccessPolicy& access_;
    ConnectionLimits& limits_;
    HttpResponder& responder_;
    std::vector<IpNetwork> trusted_proxies_;
    std::unique_ptr<OggOpusPages> pages_;
    std::string headers_;  // pages_'s header pages, with LWS_PRE bytes of headroom
    StreamFanout<PagePtr> fanout_;
    std::string scratch_;  // a page being renumbered for one reader
    std::unordered_map<lws*, std::unique_ptr<Listener>> listeners_;
    Figures counters_;
};

// The lookahead (samples at 48 kHz) of a libopus encoder with these settings,
// asked of libopus itself (OPUS_GET_LOOKAHEAD): the pre-skip of its packets.
int opus_encoder_lookahead(int channels, OpusApplication application);
// A new logical stream of the daemon's Opus packets (the stream's and every
// recording's): a random serial, the encoder's pre-skip, libopus as vendor and
// clubvoiced as encoder, pages of `page_samples`.
OggOpusSettings room_stream_settings(int channels, OpusApplication application, int page_samples);

}  // namespace clubvoice
