// The audio engine end to end, with real ALSA software PCMs (file over null),
// a real uv loop and real libopus.
#include "audio_engine.hpp"
#include "alsa_sandbox.hpp"
#include "opus_decoder.hpp"
#include "realtime.hpp"
#include "tone.hpp"
#include "uv_handles.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace clubvoice {
namespace {

using Clock = std::chrono::steady_clock;

struct Received {
    std::uint64_t seq;
    std::int64_t capture_ms;
    std::string opus;
    Clock::time_point arrived;
    std::int64_t arrived_ms;  // CLOCK_REALTIME
};

std::int64_t realtime_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class AudioEngineTest : public ::testing::Test {
  protected:
    AudioEngineTest() {
        config_ = default_config();
        config_.audio.capture.device = "test_capture";
        config_.audio.playback.device = "test_playback";
        tone_path_ = sandbox_.path("tone.raw");
        out_path_ = sandbox_.path("out.raw");
    }

    std::unique_ptr<AudioEngine> make_engine() {
        return std::make_unique<AudioEngine>(loop_.get(), config_, [this](const EncodedFrame& f) {
            received_.push_back(
                {f.seq, f.capture_ms, std::string(f.opus), Clock::now(), realtime_now_ms()});
        });
    }

    // Runs the loop until `done` holds (checked every 10 ms) or `timeout` passes.
    void run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        UvTimer check = start_timer(loop_.get(), 10, 10, [&] {
            if (done() || Clock::now() >= deadline) uv_stop(loop_.get());
        });
        uv_run(loop_.get(), UV_RUN_DEFAULT);
    }
    void run_for(std::chrono::milliseconds duration) {
        run_until([] { return false; }, duration);
    }

    // Writes `seconds` of a 440 Hz tone at 0.3 of full scale.
    void write_tone(double seconds) { test::write_s16(tone_path_, test::sine(440, seconds, 0.3)); }

    std::vector<float> decode_received() const {
        OpusDecoder decoder(1);
        std::vector<float> pcm;
        std::vector<float> buffer(OpusDecoder::kMaxFrameSamples);
        for (const auto& r : received_) {
            const int n = decoder.decode(r.opus, buffer);
            pcm.insert(pcm.end(), buffer.begin(), buffer.begin() + n);
        }
        return pcm;
    }

    test::AlsaSandbox sandbox_;
    UvLoop loop_;
    Config config_;
    std::string tone_path_;
    std::string out_path_;
    std::vector<Received> received_;
};

TEST_F(AudioEngineTest, CapturedToneArrivesEncodedInOrderAndInRealTime) {
    write_tone(10);
    sandbox_.write_asoundrc(test::AlsaSandbox::capture_pcm("test_capture", tone_path_) +
                            test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    engine->start();
    EXPECT_TRUE(engine->capture_up()) << engine->capture_problem();
    EXPECT_TRUE(engine->playback_up()) << engine->playback_problem();
    const auto started = Clock::now();
    run_for(std::chrono::milliseconds(2200));
    const auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    const nlohmann::json status = engine->status_json();
    std::string metrics;
    engine->append_metrics(metrics);
    engine->stop();

    // Every frame once, in order.
    ASSERT_GT(received_.size(), 10U);
    for (std::size_t i = 0; i < received_.size(); ++i) ASSERT_EQ(received_[i].seq, i);

    // Real-time pace: 50 frames/s of 20 ms, overall and between first and last arrival.
    const double expected = elapsed / 0.020;
    EXPECT_NEAR(static_cast<double>(received_.size()), expected, expected * 0.15);
    const double span_s =
        std::chrono::duration<double>(received_.back().arrived - received_.front().arrived).count();
    const double rate = static_cast<double>(received_.size() - 1) / span_s;
    EXPECT_NEAR(rate, 50.0, 50.0 * 0.15);

    // Capture times: 20 ms apart, in the past, and recent.
    for (std::size_t i = 1; i < received_.size(); ++i) {
        EXPECT_NEAR(received_[i].capture_ms - received_[i - 1].capture_ms, 20, 1) << i;
    }
    for (const auto& r : received_) {
        EXPECT_LE(r.capture_ms, r.arrived_ms);
        EXPECT_GT(r.capture_ms, r.arrived_ms - 200);
    }

    // The decoded sound is the 440 Hz tone.
    const auto pcm = decode_received();
    const auto steady = std::span<const float>(pcm).subspan(4800);
    const double a440 = test::tone_amplitude(steady, 440);
    EXPECT_NEAR(a440, 0.3, 0.05);
    for (double other : {220.0, 880.0, 1000.0, 1320.0}) {
        EXPECT_LT(test::tone_amplitude(steady, other), a440 / 20) << other;
    }

    // What /status says.
    const auto& capture = status["capture"];
    EXPECT_EQ(capture["state"], "up");
    EXPECT_EQ(capture["problem"], "");
    EXPECT_EQ(capture["granted"]["rate_hz"], 48000);
    EXPECT_EQ(capture["granted"]["period_frames"], 480);
    EXPECT_EQ(capture["granted"]["buffer_frames"], 1920);
    EXPECT_EQ(capture["paced_by"], "clock");
    EXPECT_GT(capture["frames_total"].get<double>(), 48000.0);
    EXPECT_EQ(capture["xruns_total"], 0);
    EXPECT_EQ(capture["overruns_total"], 0);
    EXPECT_NEAR(capture["level_dbfs"].get<double>(), -13.5, 1.5);  // 0.3 sine: -13.5 dBFS RMS
    EXPECT_EQ(status["playback"]["state"], "up");
    EXPECT_GT(status["playback"]["frames_total"].get<double>(), 48000.0);
    EXPECT_EQ(status["encoder"]["frames_total"], received_.size());
    EXPECT_GT(status["thread"]["heartbeat"].get<double>(), 150.0);
    EXPECT_TRUE(status["thread"]["running"].get<bool>());

    // /metrics: every sample has HELP and TYPE; counters end in _total.
    std::istringstream lines(metrics);
    std::string line, type;
    int samples = 0;
    while (std::getline(lines, line)) {
        if (line.starts_with("# TYPE ")) {
            type = line;
            continue;
        }
        if (line.starts_with("#")) continue;
        ++samples;
        const std::string name = line.substr(0, line.find(' '));
        EXPECT_TRUE(name.starts_with("clubvoice_")) << name;
        EXPECT_EQ(type.substr(7, name.size()), name);
        EXPECT_EQ(type.ends_with(" counter"), name.ends_with("_total")) << line;
    }
    EXPECT_GT(samples, 20);
    EXPECT_NE(metrics.find("\nclubvoice_capture_up 1\n"), std::string::npos);

    std::cout << "granted capture: " << capture["granted"].dump() << "\n"
              << "encoder: " << status["encoder"].dump() << "\n"
              << "thread: " << status["thread"].dump() << " over " << elapsed << " s\n";
}

TEST_F(AudioEngineTest, MissingDeviceIsReportedThenFoundWithoutRestart) {
    write_tone(10);
    sandbox_.write_asoundrc(test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    engine->start();
    EXPECT_FALSE(engine->capture_up());
    EXPECT_EQ(engine->capture_problem(),
              "snd_pcm_open(capture, \"test_capture\"): No such file or directory");
    EXPECT_TRUE(engine->playback_up());
    run_for(std::chrono::milliseconds(200));
    EXPECT_EQ(engine->status_json()["capture"]["state"], "down");
    EXPECT_TRUE(received_.empty());

    // The device appears: the engine finds it on its next attempt.
    sandbox_.write_asoundrc(test::AlsaSandbox::capture_pcm("test_capture", tone_path_) +
                            test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    run_until([&] { return received_.size() >= 10; }, std::chrono::seconds(8));
    EXPECT_TRUE(engine->capture_up());
    EXPECT_EQ(engine->capture_problem(), "");
    ASSERT_GE(received_.size(), 10U);
    EXPECT_EQ(received_.front().seq, 0U);
    EXPECT_GE(engine->status_json()["capture"]["open_failures_total"].get<int>(), 1);
    const auto pcm = decode_received();
    EXPECT_NEAR(test::tone_amplitude(std::span<const float>(pcm).subspan(2400), 440), 0.3, 0.06);
}

// A PCM from the test plugin next to this executable, which keeps time like a
// sound card and fails on request (see clocked_pcm_plugin.cpp).
std::string clocked_pcm(const std::string& name, const std::string& control) {
    const auto plugin = std::filesystem::read_symlink("/proc/self/exe").parent_path() /
                        "libasound_module_pcm_clubvoice_clocked.so";
    return "pcm_type.clubvoice_clocked { lib \"" + plugin.string() + "\" }\n" + "pcm." + name +
           " { type clubvoice_clocked control \"" + control + "\" }\n";
}

TEST_F(AudioEngineTest, ClockedDeviceRecoversFromXrunsAndComesBackAfterUnplug) {
    const std::string control = sandbox_.path("card");
    sandbox_.write_asoundrc(clocked_pcm("test_capture", control) +
                            test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    engine->start();
    ASSERT_TRUE(engine->capture_up()) << engine->capture_problem();
    run_until([&] { return received_.size() >= 50; }, std::chrono::seconds(3));
    ASSERT_GE(received_.size(), 50U);
    auto capture = [&] { return engine->status_json()["capture"]; };
    EXPECT_EQ(capture()["paced_by"], "device");  // the device's clock, not the thread's
    const double span_s =
        std::chrono::duration<double>(received_.back().arrived - received_.front().arrived).count();
    EXPECT_NEAR(static_cast<double>(received_.size() - 1) / span_s, 50.0, 50.0 * 0.15);
    for (std::size_t i = 1; i < received_.size(); ++i) {
        EXPECT_NEAR(received_[i].capture_ms - received_[i - 1].capture_ms, 20, 11) << i;
        EXPECT_LE(received_[i].capture_ms, received_[i].arrived_ms);
    }
    const auto pcm = decode_received();
    EXPECT_NEAR(test::tone_amplitude(std::span<const float>(pcm).subspan(4800), 440), 0.3, 0.05);

    // An xrun is recovered and counted; the sound goes on.
    std::ofstream(control + ".xrun").put('x');
    run_until([&] { return capture()["xruns_total"] == 1; }, std::chrono::seconds(2));
    EXPECT_EQ(capture()["xruns_total"], 1);
    std::size_t before = received_.size();
    run_for(std::chrono::milliseconds(300));
    EXPECT_GT(received_.size(), before + 10);
    EXPECT_TRUE(engine->capture_up());

    // Unplugged: reported down with the failing call; the thread keeps running.
    std::ofstream(control + ".gone").put('x');
    run_until([&] { return !engine->capture_up(); }, std::chrono::seconds(2));
    ASSERT_FALSE(engine->capture_up());
    EXPECT_EQ(engine->capture_problem(),
              "snd_pcm_recover(capture, \"test_capture\"): No such device");
    const std::uint64_t beats = engine->heartbeat();
    run_for(std::chrono::milliseconds(700));  // a reopen attempt fails meanwhile
    EXPECT_GT(engine->heartbeat(), beats + 30);
    EXPECT_EQ(engine->capture_problem(), "snd_pcm_open(capture, \"test_capture\"): No such device");
    EXPECT_TRUE(engine->playback_up());  // the other direction carries on

    // Plugged in again: reopened without restarting anything.
    std::filesystem::remove(control + ".gone");
    before = received_.size();
    run_until([&] { return received_.size() >= before + 10; }, std::chrono::seconds(8));
    EXPECT_TRUE(engine->capture_up()) << engine->capture_problem();
    ASSERT_GE(received_.size(), before + 10);
    for (std::size_t i = 0; i < received_.size(); ++i) ASSERT_EQ(received_[i].seq, i);
    EXPECT_EQ(capture()["device_failures_total"], 1);
    EXPECT_EQ(capture()["reopens_total"], 1);
    EXPECT_GE(capture()["open_failures_total"].get<int>(), 1);
}

TEST_F(AudioEngineTest, PlayedSoundReachesThePlaybackDevice) {
    sandbox_.write_asoundrc(test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    engine->start();
    ASSERT_TRUE(engine->playback_up()) << engine->playback_problem();
    EXPECT_FALSE(engine->capture_up());  // playback does not need capture

    const auto tone = test::sine(1000, 1.0, 0.4);
    EXPECT_TRUE(engine->play(tone));
    const auto too_much = test::sine(1000, 1.0, 0.4);
    EXPECT_FALSE(engine->play(too_much));  // the ring holds ~1.4 s: dropped whole, counted
    const auto started = Clock::now();
    run_for(std::chrono::milliseconds(1500));
    const auto status = engine->status_json()["playback"];
    engine->stop();
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

    EXPECT_EQ(status["played_frames_total"], 48000);
    EXPECT_EQ(status["ring_drops_total"], 48000);
    EXPECT_EQ(status["paced_by"], "clock");
    const auto written = test::read_s16(out_path_);
    // Real-time pace: about as many frames as time passed (plus the silent prefill).
    EXPECT_NEAR(static_cast<double>(written.size()), elapsed * 48000, elapsed * 48000 * 0.15);
    ASSERT_GT(written.size(), 48000U);
    const auto middle = std::span<const float>(written).subspan(4800, 38400);  // 0.1 to 0.9 s
    EXPECT_NEAR(test::tone_amplitude(middle, 1000), 0.4, 0.01);
    EXPECT_LT(test::tone_amplitude(middle, 440), 0.01);
    EXPECT_LT(test::rms(std::span<const float>(written).last(4800)), 1e-4);  // silence after it
}

TEST_F(AudioEngineTest, ApplyRestartsForANewFrameLengthAndSeqContinues) {
    write_tone(10);
    sandbox_.write_asoundrc(test::AlsaSandbox::capture_pcm("test_capture", tone_path_) +
                            test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    engine->start();
    run_until([&] { return received_.size() >= 10; }, std::chrono::seconds(3));
    Config changed = config_;
    changed.audio.frame_ms = 10;
    changed.opus.bitrate_kbps = 24;
    engine->apply(changed);
    EXPECT_EQ(engine->frame_ms(), 10);
    const std::size_t before = received_.size();
    const auto started = Clock::now();
    run_for(std::chrono::milliseconds(1000));
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    const std::size_t after = received_.size() - before;
    EXPECT_NEAR(static_cast<double>(after), elapsed / 0.010, elapsed / 0.010 * 0.15);
    for (std::size_t i = 0; i < received_.size(); ++i) ASSERT_EQ(received_[i].seq, i);
    EXPECT_EQ(engine->status_json()["encoder"]["bitrate_kbps"], 24);
}

// Drops the calling thread's CAP_SYS_NICE and CAP_IPC_LOCK (capabilities are
// per thread; the engine asks for SCHED_FIFO and locks memory from this one)
// and the matching limits, as for a daemon running without privileges.
class Unprivileged {
  public:
    Unprivileged() {
        header_.version = _LINUX_CAPABILITY_VERSION_3;
        syscall(SYS_capget, &header_, saved_caps_);
        __user_cap_data_struct caps[2] = {saved_caps_[0], saved_caps_[1]};
        for (int cap : {CAP_SYS_NICE, CAP_IPC_LOCK})
            caps[cap / 32].effective &= ~(1U << (cap % 32));
        syscall(SYS_capset, &header_, caps);
        for (int resource : {RLIMIT_RTPRIO, RLIMIT_MEMLOCK}) {
            rlimit limit{};
            getrlimit(resource, &limit);
            saved_limits_.push_back({resource, limit});
            limit.rlim_cur = 0;
            setrlimit(resource, &limit);
        }
    }
    ~Unprivileged() {
        syscall(SYS_capset, &header_, saved_caps_);
        for (const auto& [resource, limit] : saved_limits_) setrlimit(resource, &limit);
    }
    Unprivileged(const Unprivileged&) = delete;
    Unprivileged& operator=(const Unprivileged&) = delete;

  private:
    __user_cap_header_struct header_{};
    __user_cap_data_struct saved_caps_[2]{};
    std::vector<std::pair<int, rlimit>> saved_limits_;
};

TEST_F(AudioEngineTest, WithoutPrivilegesWarnsOnceAndRunsAtNormalPriority) {
    write_tone(10);
    sandbox_.write_asoundrc(test::AlsaSandbox::capture_pcm("test_capture", tone_path_) +
                            test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    std::string log;
    {
        Unprivileged unprivileged;
        ::testing::internal::CaptureStderr();
        engine->start();
        log = ::testing::internal::GetCapturedStderr();
    }
    std::istringstream lines(log);
    std::vector<std::string> warnings;
    for (std::string line; std::getline(lines, line);) {
        if (line.find("audio thread") != std::string::npos) warnings.push_back(line);
    }
    ASSERT_EQ(warnings.size(), 1U) << log;
    EXPECT_NE(warnings[0].find("SCHED_FIFO priority 60: Operation not permitted"),
              std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[0].find("at normal priority"), std::string::npos) << warnings[0];
    if (memory_locking_available()) {
        EXPECT_NE(warnings[0].find("mlockall: "), std::string::npos) << warnings[0];
    }

    run_until([&] { return received_.size() >= 20; }, std::chrono::seconds(3));
    EXPECT_GE(received_.size(), 20U);
    const auto thread = engine->status_json()["thread"];
    EXPECT_EQ(thread["realtime"], false);
    EXPECT_EQ(thread["memory_locked"], false);
}

TEST_F(AudioEngineTest, StopAndHeartbeat) {
    sandbox_.write_asoundrc(test::AlsaSandbox::playback_pcm("test_playback", out_path_));
    auto engine = make_engine();
    EXPECT_EQ(engine->heartbeat(), 0U);
    engine->start();
    run_for(std::chrono::milliseconds(200));
    const std::uint64_t beats = engine->heartbeat();
    EXPECT_GT(beats, 10U);  // 10 ms periods
    engine->stop();
    EXPECT_FALSE(engine->playback_up());
    EXPECT_EQ(engine->playback_problem(), "the audio engine is stopped");
    EXPECT_EQ(engine->status_json()["thread"]["running"], false);
    EXPECT_GE(engine->heartbeat(), beats);  // totals never go back
    EXPECT_FALSE(engine->play(test::sine(1000, 0.1)));
}

}  // namespace
}  // namespace clubvoice
