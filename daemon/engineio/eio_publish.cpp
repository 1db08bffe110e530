// EioServer, the stream's fan-out: each packet is stored once in the ring,
// and every WebSocket listener that keeps up is written after the loop
// iteration's I/O callbacks (a check handle), not inside publish(), in
// slices of about a millisecond with the loop polling between them.
//
// Why after, not inside: when the loop is late (a fan-out to thousands
// takes longer than a frame), the audio engine hands over several frames
// in one callback. Written inside publish(), each frame was one walk over
// every listener and the walks ran back to back, so the loop did not poll
// for seconds: talkers' packets and requests waited. Deferred, the frames
// of one iteration make one walk, a listener behind by several packets gets
// them in one write (an event's frames are never split), and the loop
// polls before the next walk. Why slices: a walk over thousands takes 10-20
// ms; a talker's packet that arrives meanwhile is read between two slices
// instead of after the walk, so it reaches its jitter buffer in time. A
// loop that keeps up pays one extra poll per slice.
#include "eio_server.hpp"

#include "log.hpp"
#include "loop_thread.hpp"
#include "ws_bytes.hpp"

#include <algorithm>
#include <vector>

namespace clubvoice {
namespace {

// Packets one write may carry to a listener that fell behind: enough to
// catch up after a late iteration, few enough to keep the write small.
constexpr int kPacketsPerWrite = 8;
// A slice of the walk: the clock is read every kSliceCheck listeners.
constexpr std::uint64_t kSliceNs = 1'000'000;
constexpr std::size_t kSliceCheck = 32;

}  // namespace

void EioServer::publish(OutgoingPtr packet) {
    assert_on_loop();
    stream_.push(std::move(packet));
    if (!walk_) return;  // shut down
    if (walk_at_ < walk_list_.size()) {
        walk_again_ = true;  // those already written this walk get it next walk
        return;
    }
    if (!walk_due_) {
        walk_due_ = true;
        run_after_poll(walk_);
    }
}

void EioServer::start_walk() {
    walk_list_.clear();
    walk_at_ = 0;
    walk_again_ = false;
    for (auto& [sid, session] : sessions_) {
        if (session->stream) walk_list_.push_back(session.get());
    }
}

void EioServer::walk_stream() {
    if (walk_at_ >= walk_list_.size()) start_walk();
    const std::uint64_t started = uv_hrtime();
    const std::uint64_t now = uv_now(loop_);
    std::vector<EioSession*> too_slow;
    std::vector<EioSession*> broken;
    for (std::size_t n = 1; walk_at_ < walk_list_.size(); ++n) {
        EioSession* session = walk_list_[walk_at_++];
        if (session == nullptr || !session->stream) continue;  // closed since the walk began
        if (!stream_.keeps_up(*session->stream, now)) {
            too_slow.push_back(session);
        } else {
            switch (try_write_stream(*session)) {
                case StreamWrite::done:
                    break;
                case StreamWrite::needs_callback:
                    request_write(*session);
                    break;
                case StreamWrite::failed:
                    broken.push_back(session);
                    break;
            }
        }
        if (n % kSliceCheck == 0 && uv_hrtime() - started > kSliceNs) break;
    }
    // Closed only now, out of the walk's way.
    for (EioSession* session : broken) close(*session, "write failed");
    for (EioSession* session : too_slow) {
        ++counters_.lag_disconnects;
        log::warning("engine.io: {} ({}): closed, took no audio for {} ms ({} packets dropped)",
                     session->sid, session->peer, now - session->stream->lagging_since_ms,
                     stream_.lost(*session->stream));
        close(*session, "too slow");
    }
    if (walk_at_ < walk_list_.size() || walk_again_) {
        // More to write: the check handle stays on, and the idle one keeps
        // the poll in between from waiting.
        if (walk_at_ >= walk_list_.size()) start_walk();
        run_each_pass(walk_idle_);
        return;
    }
    stop_check(walk_);
    stop_idle(walk_idle_);
    walk_due_ = false;
}

void EioServer::leave_walk(EioSession& session) {
    // Its memory goes on the next loop pass; the walk may outlast that.
    if (walk_at_ >= walk_list_.size()) return;
    std::replace(walk_list_.begin() + static_cast<std::ptrdiff_t>(walk_at_), walk_list_.end(),
                 &session, static_cast<EioSession*>(nullptr));
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
