// EioServer, the stream's fan-out: each packet is stored once in the ring,
// and every WebSocket listener that keeps up is written right after this
// loop iteration's I/O callbacks (a check handle), not inside publish().
//
// Why after, not inside: when the loop is late (a fan-out to thousands
// takes longer than a frame), the audio engine hands over several frames
// in one callback. Written inside publish(), each frame was one walk over
// every listener and the walks ran back to back, so the loop did not poll
// for seconds: talkers' packets and requests waited. Deferred, the frames
// of one iteration make one walk, a listener behind by several packets gets
// them in one write (an event's frames are never split), and the next
// iteration polls before the next walk. A loop that keeps up pays nothing:
// one frame per iteration is one walk and one write per listener, as before.
#include "eio_server.hpp"

#include "log.hpp"
#include "loop_thread.hpp"
#include "ws_bytes.hpp"

#include <vector>

namespace clubvoice {
namespace {

// Packets one write may carry to a listener that fell behind: enough to
// catch up after a late iteration, few enough to keep the write small.
constexpr int kPacketsPerWrite = 8;

}  // namespace

void EioServer::publish(OutgoingPtr packet) {
    assert_on_loop();
    stream_.push(std::move(packet));
    if (!walk_due_ && walk_) {
        walk_due_ = true;
        run_after_poll(walk_);
    }
}

void EioServer::walk_stream() {
    stop_check(walk_);
    walk_due_ = false;
    const std::uint64_t now = uv_now(loop_);
    std::vector<EioSession*> too_slow;
    std::vector<EioSession*> broken;
    for (auto& [sid, session] : sessions_) {
        if (!session->stream) continue;
        if (!stream_.keeps_up(*session->stream, now)) {
            too_slow.push_back(session.get());
            continue;
        }
        switch (try_write_stream(*session)) {
            case StreamWrite::done:
                break;
            case StreamWrite::needs_callback:
                request_write(*session);
                break;
            case StreamWrite::failed:
                broken.push_back(session.get());
                break;
        }
    }
    // Closed only now: closing erases from sessions_, which the loop above walks.
    for (EioSession* session : broken) close(*session, "write failed");
    for (EioSession* session : too_slow) {
        ++counters_.lag_disconnects;
        log::warning("engine.io: {} ({}): closed, took no audio for {} ms ({} packets dropped)",
                     session->sid, session->peer, now - session->stream->lagging_since_ms,
                     stream_.lost(*session->stream));
        close(*session, "too slow");
    }
}

EioServer::StreamWrite EioServer::try_write_stream(EioSession& session) {
    if (session.transport != EioSession::Transport::websocket || session.ws == nullptr ||
        session.upgrading || session.write_requested || !session.control.empty() ||
        lws_partial_buffered(session.ws) != 0) {
        return StreamWrite::needs_callback;
    }
    const int wrote = write_stream(session);
    if (wrote < 0) return StreamWrite::failed;
    const bool more = stream_.pending(*session.stream) || lws_partial_buffered(session.ws) != 0;
    return more ? StreamWrite::needs_callback : StreamWrite::done;
}

int EioServer::write_stream(EioSession& session) {
    const OutgoingPtr* first = stream_.take(*session.stream);
    if (first == nullptr) return 0;
    if (!stream_.pending(*session.stream)) {
        return write_ws_bytes(session.ws, (*first)->ws_bytes()) != 0 ? -1 : 1;
    }
    // Behind by more than one: the packets go out together, each whole.
    batch_.assign(LWS_PRE, '\0');
    batch_.append((*first)->ws_bytes());
    for (int i = 1; i < kPacketsPerWrite; ++i) {
        const OutgoingPtr* next = stream_.take(*session.stream);
        if (next == nullptr) break;
        batch_.append((*next)->ws_bytes());
    }
    return write_ws_bytes(session.ws, std::string_view(batch_).substr(LWS_PRE)) != 0 ? -1 : 1;
}

}  // namespace clubvoice
