#include "icecast_sender.hpp"

#include "http_stream.hpp"  // room_stream_settings

#include <fmt/format.h>

#include <stdexcept>

namespace clubvoice {
namespace {

// Pages of 100 ms: Icecast and its listeners buffer seconds anyway, and
// bigger pages cost fewer header bytes.
constexpr int kPageSamples = 4800;
// How long the thread sleeps when nothing arrives (the loop sends a packet
// every frame): it also paces the connection's progress while opening.
constexpr auto kTick = std::chrono::milliseconds(20);
// Two seconds of packets: the thread is late only while the system is.
constexpr std::size_t kMaxQueuedPackets = 100;
constexpr auto kOpenTimeout = std::chrono::seconds(10);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
// About 8 s of a 64 kbit/s stream: a server that reads nothing that long
// has stopped reading.
constexpr std::size_t kMaxServerQueue = std::size_t{64} * 1024;

}  // namespace

IcecastSender::IcecastSender(IcecastTarget target, OpusApplication application)
    : target_(std::move(target)), application_(application), thread_([this] { run(); }) {}

IcecastSender::~IcecastSender() {
    {
        std::lock_guard lock(queue_mutex_);
        quit_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

bool IcecastSender::push(std::string_view opus, int channels) {
    {
        std::lock_guard lock(queue_mutex_);
        if (queue_.size() >= kMaxQueuedPackets) return false;
        queue_.push_back({std::string(opus), channels});
    }
    wake_.notify_one();
    return true;
}

IcecastSender::Snapshot IcecastSender::snapshot() const {
    std::lock_guard lock(figures_mutex_);
    return figures_;
}

void IcecastSender::run() {
    std::deque<Packet> batch;
    while (true) {
        {
            std::unique_lock lock(queue_mutex_);
            wake_.wait_for(lock, kTick, [this] { return quit_ || !queue_.empty(); });
            if (quit_) return;
            batch.swap(queue_);
        }
        step(batch, Clock::now());
        batch.clear();
    }
}

void IcecastSender::step(std::deque<Packet>& batch, Clock::time_point now) {
    if (!connection_) {
        {
            std::lock_guard lock(figures_mutex_);
            if (figures_.state == State::down && now < figures_.retry_at) return;
        }
        try {
            connection_ = std::make_unique<ShoutConnection>(target_);
        } catch (const std::exception& e) {
            fail(e.what(), now);
            return;
        }
        opening_since_ = now;
        set_state(State::connecting);
    }
    if (!connected_) {
        switch (connection_->open()) {
            case ShoutConnection::Progress::pending:
                if (now - opening_since_ > kOpenTimeout) fail("no answer within 10 s", now);
                return;  // packets that come meanwhile are not sent: a live stream
            case ShoutConnection::Progress::failed:
                fail(connection_->error(), now);
                return;
            case ShoutConnection::Progress::done:
                connected_ = true;
                backoff_ = std::chrono::seconds(1);
                {
                    std::lock_guard lock(figures_mutex_);
                    ++figures_.connects;
                    figures_.problem.clear();
                }
                set_state(State::up);
                break;
        }
    }
    send(batch, now);
}

void IcecastSender::send(std::deque<Packet>& batch, Clock::time_point now) {
    std::string out;
    std::uint64_t pages = 0, bad = 0;
    for (const Packet& packet : batch) {
        if (!pages_ || pages_->settings().channels != packet.channels) {
            // Every connection, and a change of channels, begins a logical
            // stream: Icecast passes the header pages to each new listener.
            pages_ = std::make_unique<OggOpusPages>(
                room_stream_settings(packet.channels, application_, kPageSamples));
            pages_->append_headers(out);
            pages += 2;
        }
        try {
            pages += pages_->add(packet.opus, out) ? 1 : 0;
        } catch (const std::invalid_argument&) {
            ++bad;  // the encoder's own packets: not expected
        }
    }
    const bool ok = out.empty() ? connection_->flush() : connection_->send(out);
    const std::size_t waiting = connection_->queued();
    {
        std::lock_guard lock(figures_mutex_);
        figures_.pages += pages;
        figures_.bytes += out.size();
        figures_.bad_packets += bad;
        figures_.server_queue = waiting;
    }
    if (!ok) {
        fail(fmt::format("connection lost ({})", connection_->error()), now);
    } else if (waiting > kMaxServerQueue) {
        fail(fmt::format("the server stopped reading ({} KiB waiting)", waiting / 1024), now);
    }
}

void IcecastSender::fail(std::string problem, Clock::time_point now) {
    connection_.reset();
    pages_.reset();
    connected_ = false;
    {
        std::lock_guard lock(figures_mutex_);
        figures_.problem = std::move(problem);
        figures_.retry_at = now + backoff_;
        figures_.server_queue = 0;
        ++figures_.failures;
    }
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    set_state(State::down);
}

void IcecastSender::set_state(State state) {
    {
        std::lock_guard lock(figures_mutex_);
        figures_.state = state;
    }
    changes_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace clubvoice
