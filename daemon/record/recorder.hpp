// record.*: the room recorded to Ogg Opus files, from the same encoded
// packets the listeners get (no second encoder). Each file is a complete
// logical stream of its own (OggOpusPages: header pages, granules from 0 plus
// the pre-skip, the end-of-stream flag on its last page), named by its UTC
// start time, and a new one begins every record.segment_s seconds of audio,
// back to back: the packet that ends one file is followed by the first of the
// next.
//
// The loop only builds pages (as HttpStream does) and hands them, about once a
// second, to a RecordWriter thread that does the file work; a full queue drops
// pages (counted), so a stalled disk never stalls the loop or the listeners.
// A failed write stops recording with one error line and a /health detail;
// a new file is tried every 30 s (and at once on a reload), and one line says
// when recording works again.
//
// To close the last page with the end-of-stream flag, the newest packet is
// held back until the next one arrives (20 ms later) or the file ends.
// Thread: loop.
#pragma once

#include "config.hpp"
#include "metrics.hpp"
#include "ogg_opus_pages.hpp"
#include "record_writer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace clubvoice {

class Recorder {
  public:
    // `config` is the daemon's live one (a reload changes it in place).
    explicit Recorder(const Config& config);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // One encoded Opus packet of `channels` channels (the audio engine's frame).
    void publish(std::string_view opus, int channels);
    // After a reload: starts or stops recording, and starts a new file for a
    // new directory; a recorder that is down tries again at once.
    void config_changed();
    // Ends the current file (end-of-stream page) for shutdown; later packets
    // are ignored.
    void stop();

    enum class State { off, recording, down };
    State state() const { return state_; }
    // "down: write /dir/file: No space left on device" while down.
    std::string problem() const { return "down: " + problem_; }
    const std::string& file() const { return file_name_; }

    struct Figures {
        bool enabled = false;
        bool up = false;
        std::uint64_t files = 0, pages = 0, bytes = 0, dropped = 0, errors = 0, deleted = 0;
    };
    Figures figures() const;
    // clubvoice_record_* (/status: "record", with its state and file).
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics
    // /status "record": the figures, its state ("off", "recording", "down")
    // and the current file's name.
    void report_status(nlohmann::json& status) const;

  private:
    using Clock = std::chrono::steady_clock;

    void start_file(int channels, Clock::time_point now);
    // Adds the held packet as the file's last, hands everything over, closes.
    void finish_file();
    void hand_over(Clock::time_point now);  // the pages built so far, to the writer
    void check_writer(Clock::time_point now);
    void abandon_file();

    const Config& config_;
    Config::Record applied_;  // the settings recording runs with
    std::unique_ptr<RecordWriter> writer_;
    std::unique_ptr<OggOpusPages> pages_;  // the current file's stream; null between files
    std::string held_;                     // the newest packet, not yet in a page
    std::string built_;                    // whole pages not yet handed to the writer
    std::uint64_t built_pages_ = 0;
    Clock::time_point last_hand_over_{};
    Clock::time_point retry_at_{};
    std::uint64_t file_id_ = 0;
    std::int64_t last_start_ = 0;  // the current or last file's start (Unix seconds)
    std::string file_name_;
    State state_ = State::off;
    std::string problem_;
    std::uint64_t failures_seen_ = 0;
    bool stopped_ = false;
    Figures counters_;
};

}  // namespace clubvoice
