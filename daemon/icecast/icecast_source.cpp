#include "icecast_source.hpp"

#include "log.hpp"
#include "loop_thread.hpp"

#include <chrono>

namespace clubvoice {
namespace {

constexpr std::uint64_t kWatchMs = 250;

}  // namespace

IcecastSource::IcecastSource(uv_loop_t* loop, const Config& config)
    : config_(config),
      applied_(config.icecast),
      watch_timer_(start_timer(loop, kWatchMs, kWatchMs, [this] { watch(); })) {
    start();
}

IcecastSource::~IcecastSource() {
    stop();
}

void IcecastSource::start() {
    retire_sender();
    where_.clear();
    last_problem_.clear();
    if (applied_.url.empty()) return;
    const auto url = parse_server_url(applied_.url, Config::Icecast::kSchemes);
    if (!url) return;  // checked on load
    where_ = url->text();
    IcecastTarget target{url->host, url->port, url->path, applied_.user, applied_.password};
    sender_ = std::make_unique<IcecastSender>(std::move(target), config_.opus.application);
    seen_changes_ = 0;
    log::notice("icecast: feeding {} as {}", where_, applied_.user);
}

void IcecastSource::publish(std::string_view opus, int channels) {
    assert_on_loop();
    if (stopped_ || !sender_ || opus.empty()) return;
    if (!sender_->push(opus, channels)) ++dropped_;
}

void IcecastSource::config_changed() {
    if (stopped_) return;
    const Config::Icecast& wanted = config_.icecast;
    if (wanted.url == applied_.url && wanted.user == applied_.user &&
        wanted.password == applied_.password) {
        return;
    }
    if (!wanted.url.empty() || sender_) {
        log::notice("icecast: settings changed, {}",
                    wanted.url.empty() ? "stopping" : "reconnecting");
    }
    applied_ = wanted;
    start();
}

void IcecastSource::retire_sender() {
    if (!sender_) return;
    // The counters go on across senders: /metrics counters never go back.
    const IcecastSender::Snapshot s = sender_->snapshot();
    earlier_.connects += s.connects;
    earlier_.failures += s.failures;
    earlier_.pages += s.pages;
    earlier_.bytes += s.bytes;
    sender_.reset();  // the thread closes the connection and ends
}

void IcecastSource::stop() {
    if (stopped_) return;
    stopped_ = true;
    retire_sender();
    watch_timer_.close();
}

bool IcecastSource::up() const {
    return sender_ && sender_->snapshot().state == IcecastSender::State::up;
}

std::string IcecastSource::problem() const {
    if (!sender_) return "off";
    const IcecastSender::Snapshot s = sender_->snapshot();
    switch (s.state) {
        case IcecastSender::State::up:
            return "up";
        case IcecastSender::State::connecting:
            return s.problem.empty() ? "connecting to " + where_
                                     : "down: " + where_ + ": " + s.problem;
        case IcecastSender::State::down:
            return "down: " + where_ + ": " + s.problem;
    }
    return "?";
}

void IcecastSource::watch() {
    if (!sender_) return;
    const std::uint64_t changes = sender_->changes();
    if (changes == seen_changes_) return;
    seen_changes_ = changes;
    const IcecastSender::Snapshot s = sender_->snapshot();
    if (s.state == IcecastSender::State::up) {
        log::notice("icecast: connected to {}{}", where_, last_problem_.empty() ? "" : " again");
        last_problem_.clear();
    } else if (s.state == IcecastSender::State::down) {
        const auto retry =
            std::chrono::ceil<std::chrono::seconds>(s.retry_at - std::chrono::steady_clock::now());
        // One warning per kind of failure; a server that stays away is retried quietly.
        const log::Level level =
            s.problem == last_problem_ ? log::Level::debug : log::Level::warning;
        log::at(level, "icecast: {} down: {}; retrying in {} s", where_, s.problem,
                std::max<std::int64_t>(0, retry.count()));
        last_problem_ = s.problem;
    }
}

IcecastSource::Figures IcecastSource::figures() const {
    Figures f = earlier_;
    f.enabled = sender_ != nullptr;
    f.dropped = dropped_;
    if (!sender_) return f;
    const IcecastSender::Snapshot s = sender_->snapshot();
    f.up = s.state == IcecastSender::State::up;
    f.connects += s.connects;
    f.failures += s.failures;
    f.pages += s.pages;
    f.bytes += s.bytes;
    f.server_queue = s.server_queue;
    return f;
}

}  // namespace clubvoice
