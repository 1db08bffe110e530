// HttpStream, request side: who may read /stream.opus, opening and closing
// readers, access after a reload. Thread: loop.
#include "http_stream.hpp"

#include "internal_errors.hpp"
#include "log.hpp"
#include "loop_thread.hpp"
#include "lws_request.hpp"
#include "stream_query.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <utility>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace clubvoice {
namespace {

// A reader may fall this many pages (about 2.5 s) behind before it skips
// pages; one that stays behind the whole ring longer than kLagCloseMs is cut.
constexpr std::size_t kRingPages = 64;
constexpr std::uint64_t kLagCloseMs = 8000;

// Keeps a slow reader's backlog in our ring (where whole pages are dropped
// and counted) rather than in the kernel's send buffer: the socket reports
// writable only while less than this is unsent (about a second of audio).
void limit_unsent(lws* wsi) {
    int fd = lws_get_socket_fd(wsi);
    int lowat = 4096;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
}

// 200 audio/ogg without a length: lws then says `Connection: close`, and the
// response lasts until either side closes it.
int send_stream_headers(lws* wsi) {
    std::array<unsigned char, LWS_PRE + 512> buffer{};
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size() - 1;
    static constexpr std::string_view kNoStore = "no-store";
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "audio/ogg", LWS_ILLEGAL_HTTP_CONTENT_LEN,
                                    &p, end) != 0 ||
        lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("cache-control:"),
                                    reinterpret_cast<const unsigned char*>(kNoStore.data()),
                                    static_cast<int>(kNoStore.size()), &p, end) != 0) {
        return -1;
    }
    return lws_finalize_write_http_header(wsi, start, &p, end) != 0 ? -1 : 0;
}

HttpResponse refusal(int status, std::string_view why) {
    HttpResponse response = HttpResponse::json(status, nlohmann::json{{"error", why}}.dump());
    response.headers.emplace_back("cache-control", "no-store");
    return response;
}

}  // namespace

HttpStream::HttpStream(uv_loop_t* loop, const Config& config, const AccessPolicy& access,
                       ConnectionLimits& limits, HttpResponder& responder)
    : loop_(loop),
      config_(config),
      access_(access),
      limits_(limits),
      responder_(responder),
      fanout_(kRingPages, kLagCloseMs) {
    start_logical_stream(config_.audio.capture.channels);
}

// By now the lws context is gone, and with it every connection.
HttpStream::~HttpStream() = default;

int HttpStream::on_http(lws* wsi, WsiState& state, std::string_view method) {
    state = {this, nullptr, kNone};
    if (method != "GET" && method != "HEAD") {
        HttpResponse response = HttpResponse::text(405, "method not allowed\n");
        response.headers.emplace_back("allow", "GET, HEAD");
        return responder_.respond(wsi, response);
    }
    const bool head = method == "HEAD";
    const IpAddress client = request_client(wsi, trusted_proxies_);
    std::optional<AccessToken> token;
    if (auto refused = check_request(wsi, client, token)) {
        return responder_.respond(wsi, *refused, head);
    }
    if (head) {
        if (send_stream_headers(wsi) != 0) return -1;
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
    }
    return open_listener(wsi, state, client, std::move(token));
}

std::optional<HttpResponse> HttpStream::check_request(lws* wsi, const IpAddress& client,
                                                      std::optional<AccessToken>& token) {
    const StreamQuery query = check_stream_query(url_arguments(wsi));
    if (!query.ok()) {
        ++counters_.invalid_queries;
        log::info("stream: refused {}: {}", client.to_string(), query.problem);
        return refusal(400, query.problem);
    }
    // The limits first: they also bound how fast one address may try tokens.
    const LimitRefusal limit = limits_.admit(client, limits_.sessions(), uv_now(loop_));
    if (limit != LimitRefusal::none) {
        ++counters_.limit_refused;
        // A client refused for its rate is not worth a line each time.
        if (limit != LimitRefusal::too_fast) {
            log::warning("stream: refused {}: {}", client.to_string(), to_string(limit));
        }
        HttpResponse response =
            refusal(limit == LimitRefusal::server_full ? 503 : 429, to_string(limit));
        response.headers.emplace_back("retry-after", "1");
        return response;
    }
    // A token in the query wins over one in the Authorization header.
    const Admission admission = access_.admit(query.token ? *query.token : request_bearer(wsi));
    if (!admission.role) {
        ++counters_.token_refused;
        log::info("stream: refused {}: {}", client.to_string(), admission.refusal);
        HttpResponse response = refusal(401, admission.refusal);
        response.headers.emplace_back("www-authenticate", R"(Bearer realm="clubvoice")");
        return response;
    }
    token = admission.token;
    return std::nullopt;
}

int HttpStream::open_listener(lws* wsi, WsiState& state, const IpAddress& client,
                              std::optional<AccessToken> token) {
    auto owned = std::make_unique<Listener>();
    Listener& listener = *owned;
    listener.wsi = wsi;
    listener.client = client;
    listener.peer = client.to_string();
    listener.token = std::move(token);
    listener.reader = fanout_.join();
    // Its first page, the next one, is to be its page 2.
    listener.sequence_offset = pages_->next_sequence() - 2;
    limits_.opened(client);
    listeners_.emplace(wsi, std::move(owned));
    ++counters_.opened;
    state = {this, &listener, kStreaming};
    // No time limit from lws: the response lasts as long as the reader reads.
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    limit_unsent(wsi);
    if (send_stream_headers(wsi) != 0) {
        state = {this, nullptr, kNone};
        forget(listener);
        return -1;
    }
    log::debug("stream: {} listening ({} readers)", listener.peer, listeners_.size());
    request_write(listener);
    return 0;
}

void HttpStream::cut(Listener& listener, std::string_view why) {
    lws* wsi = listener.wsi;
    log::debug("stream: {} closed: {}", listener.peer, why);
    if (auto* state = static_cast<WsiState*>(lws_wsi_user(wsi)); state != nullptr) {
        *state = {this, nullptr, kCut};
    }
    forget(listener);
    // Closed at lws's next service, whether or not the socket can be written
    // (a reader that stopped reading would never get a writeable callback).
    // lws 4.1 on a foreign libuv loop looks at its timers only after it
    // serviced something, so it is woken too: a writeable callback (which
    // answers -1) for a socket that takes data, its cancel pipe for one that
    // does not.
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    lws_callback_on_writable(wsi);
    lws_cancel_service(lws_get_context(wsi));
}

void HttpStream::forget(Listener& listener) {
    fanout_.leave(listener.reader);
    limits_.closed(listener.client);
    listeners_.erase(listener.wsi);  // destroys `listener`
}

void HttpStream::on_http_closed(lws* wsi, WsiState& state) {
    auto* listener = static_cast<Listener*>(state.session);
    state = {this, nullptr, kNone};
    if (listener == nullptr || listener->wsi != wsi) return;
    log::debug("stream: {} left ({} readers)", listener->peer, listeners_.size() - 1);
    forget(*listener);
}

std::optional<HttpResponse> HttpStream::on_ws_filter(lws* /*wsi*/) {
    return refusal(400, "/stream.opus is plain HTTP, not a WebSocket");
}

void HttpStream::on_callback_error(WsiState& state, int lws_reason) noexcept {
    try {
        auto* listener = static_cast<Listener*>(state.session);
        report_current_exception(
            listener != nullptr
                ? fmt::format("stream reader {}, lws reason {}", listener->peer, lws_reason)
                : fmt::format("a {} request, lws reason {}", kPath, lws_reason));
        // lws closes the connection (the callback answers -1).
        state = {this, nullptr, kNone};
        if (listener != nullptr) forget(*listener);
    } catch (...) {
        report_internal_error("closing a stream reader after an internal error", "failed");
    }
}

void HttpStream::config_changed() {
    assert_on_loop();
    std::vector<Listener*> revoked;
    for (auto& [wsi, listener] : listeners_) {
        if (!access_.still_admits(listener->token)) revoked.push_back(listener.get());
    }
    for (Listener* listener : revoked) {
        ++counters_.revoked;
        log::notice("stream: {}: closed: the reloaded access rules no longer admit it",
                    listener->peer);
        cut(*listener, "access withdrawn");
    }
    // audio/voip share one lookahead today; a change would need new headers.
    const int channels = pages_->settings().channels;
    if (opus_encoder_lookahead(channels, config_.opus.application) != pages_->settings().pre_skip) {
        start_logical_stream(channels);
    }
}

void HttpStream::close_all() {
    while (!listeners_.empty()) cut(*listeners_.begin()->second, "server stopped");
}

HttpStream::Figures HttpStream::figures() const {
    Figures f = counters_;
    f.listeners = listeners_.size();
    f.pages_dropped = fanout_.drops_of_gone();
    for (const auto& [wsi, listener] : listeners_) {
        f.pages_dropped += fanout_.lost(listener->reader);
    }
    return f;
}

}  // namespace clubvoice
