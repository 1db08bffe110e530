#include "recorder.hpp"

#include "http_stream.hpp"  // room_stream_settings
#include "log.hpp"
#include "loop_thread.hpp"
#include "recording_names.hpp"

#include <opus/opus.h>

#include <algorithm>

namespace clubvoice {
namespace {

// An audio page closes once it holds 200 ms: files need no low latency, and
// bigger pages cost fewer header bytes. The writer gets pages about once a
// second, so a crash loses at most about a second and a page.
constexpr int kPageSamples = 9600;
constexpr auto kHandOverEvery = std::chrono::seconds(1);
constexpr auto kRetryAfter = std::chrono::seconds(30);
// About a minute of a 510 kbit/s stream: a disk that stalls longer loses pages.
constexpr std::size_t kMaxQueuedBytes = std::size_t{4} * 1024 * 1024;
constexpr std::int64_t kSampleRateHz = 48000;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int packet_samples(std::string_view packet) {
    return opus_packet_get_nb_samples(reinterpret_cast<const unsigned char*>(packet.data()),
                                      static_cast<opus_int32>(packet.size()), kSampleRateHz);
}

}  // namespace

Recorder::Recorder(const Config& config) : config_(config), applied_(config.record) {
    if (applied_.enabled) {
        state_ = State::recording;
        log::notice("record: recording to {}, a new file every {} s", applied_.dir,
                    applied_.segment_s);
    }
}

Recorder::~Recorder() {
    stop();
}

void Recorder::publish(std::string_view opus, int channels) {
    assert_on_loop();
    if (stopped_ || state_ == State::off || opus.empty()) return;
    const Clock::time_point now = Clock::now();
    check_writer(now);
    if (pages_ && channels != pages_->settings().channels) finish_file();
    if (!pages_) {
        if (state_ == State::down && now < retry_at_) return;
        start_file(channels, now);
        held_.assign(opus);
        return;
    }
    const int held_samples = packet_samples(held_);
    const std::int64_t played = pages_->granule() - pages_->settings().pre_skip;
    if (played + held_samples >= std::int64_t{applied_.segment_s} * kSampleRateHz) {
        finish_file();  // the held packet ends this file; this one begins the next
        start_file(channels, now);
        held_.assign(opus);
        return;
    }
    const std::uint32_t before = pages_->next_sequence();
    pages_->add(held_, built_);
    built_pages_ += pages_->next_sequence() - before;
    held_.assign(opus);
    if (now - last_hand_over_ >= kHandOverEvery) hand_over(now);
}

void Recorder::start_file(int channels, Clock::time_point now) {
    if (!writer_) writer_ = std::make_unique<RecordWriter>(kMaxQueuedBytes);
    // Names are unique by the second, even when segments are that short.
    last_start_ = std::max(unix_now(), last_start_ + 1);
    file_name_ = recording_name(last_start_);
    ++file_id_;
    writer_->open(file_id_, applied_.dir, file_name_, applied_.keep_days);
    pages_ = std::make_unique<OggOpusPages>(
        room_stream_settings(channels, config_.opus.application, kPageSamples));
    pages_->append_headers(built_);
    built_pages_ += 2;
    hand_over(now);  // the headers at once: a file that exists is a valid one
    ++counters_.files;
    log::info("record: new file {}/{}", applied_.dir, file_name_);
}

void Recorder::finish_file() {
    if (!pages_) return;
    if (!held_.empty()) {
        const std::uint32_t before = pages_->next_sequence();
        pages_->add(held_, built_, true);
        built_pages_ += pages_->next_sequence() - before;
        held_.clear();
    }
    hand_over(Clock::now());
    writer_->close(file_id_);
    pages_.reset();
}

void Recorder::hand_over(Clock::time_point now) {
    last_hand_over_ = now;
    if (built_.empty()) return;
    if (writer_->write(file_id_, std::move(built_))) {
        counters_.pages += built_pages_;
    } else {
        counters_.dropped += built_pages_;  // the disk is behind: these pages are lost
    }
    built_.clear();
    built_pages_ = 0;
}

void Recorder::abandon_file() {
    pages_.reset();
    held_.clear();
    built_.clear();
    built_pages_ = 0;
    if (writer_) writer_->close(file_id_);
}

void Recorder::check_writer(Clock::time_point now) {
    if (!writer_) return;
    if (const std::uint64_t failures = writer_->failures(); failures != failures_seen_) {
        counters_.errors += failures - failures_seen_;
        failures_seen_ = failures;
        problem_ = writer_->last_error();
        if (state_ == State::recording) {
            log::error("record: {}: recording stopped; a new file is tried every {} s", problem_,
                       kRetryAfter.count());
        } else {
            log::debug("record: still failing: {}", problem_);
        }
        state_ = State::down;
        abandon_file();
        retry_at_ = now + kRetryAfter;
        return;
    }
    if (state_ == State::down && pages_ && writer_->good_file() == file_id_) {
        state_ = State::recording;
        problem_.clear();
        log::notice("record: recording again, to {}/{}", applied_.dir, file_name_);
    }
}

void Recorder::config_changed() {
    assert_on_loop();
    if (stopped_) return;
    const Config::Record& wanted = config_.record;
    const bool new_dir = wanted.dir != applied_.dir;
    applied_ = wanted;
    if (!wanted.enabled) {
        if (state_ != State::off) {
            finish_file();
            abandon_file();
            state_ = State::off;
            problem_.clear();
            log::notice("record: stopped (record.enabled is false)");
        }
        return;
    }
    if (state_ == State::off) {
        state_ = State::recording;
        if (writer_) failures_seen_ = writer_->failures();
        log::notice("record: recording to {}, a new file every {} s", applied_.dir,
                    applied_.segment_s);
    } else if (state_ == State::down) {
        abandon_file();
        retry_at_ = Clock::now();  // the operator may have made room: try at once
    } else if (new_dir) {
        finish_file();  // the next packet begins a file in the new directory
        log::notice("record: now recording to {}", applied_.dir);
    }
}

void Recorder::stop() {
    if (stopped_) return;
    finish_file();
    stopped_ = true;
}

Recorder::Figures Recorder::figures() const {
    Figures f = counters_;
    f.enabled = state_ != State::off;
    f.up = state_ == State::recording;
    if (writer_) {
        f.bytes = writer_->bytes_written();
        f.deleted = writer_->files_deleted();
    }
    return f;
}

}  // namespace clubvoice
