// The talk mixer on its own thread: a talker's packets filed by this thread
// (the loop's part) come out of the playback ring as the tone they carry,
// without a gap, while this thread also holds the mixer's lock now and then
// (as a busy loop would). Runs under ThreadSanitizer in CI.
#include "talk_mixer.hpp"
#include "opus_encoder.hpp"
#include "spsc_ring.hpp"
#include "tone.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace clubvoice {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

TEST(TalkMixer, PlaysATalkerWithoutGapsWhileTheLoopHoldsTheLock) {
    UvLoop loop;
    SpscRing<float> ring(48000);  // the playback ring: the mixer produces, the "device" consumes
    std::atomic<bool> playing{false};
    TalkMixer mixer(loop.get(),
                    PlaybackOut{[&ring] { return ring.read_available(); },
                                [&ring](std::span<const float> mix) { return ring.push_all(mix); },
                                [&playing](bool active) { playing.store(active); },
                                {}},
                    nullptr);
    {
        auto lock = mixer.lock();
        mixer.set(TalkMixer::Settings{});
        mixer.talkers().emplace(
            "a", std::make_unique<Talker>(TalkerId{"a", "Ann"}, JitterSettings{40, 200}, now_ns()));
    }
    // SCHED_FIFO as in the daemon (granted to root and with CAP_SYS_NICE):
    // on a loaded machine a mixer at normal priority has no such guarantee.
    mixer.start(50);
    if (!mixer.thread().realtime())
        GTEST_SKIP() << "no SCHED_FIFO here: " << mixer.thread().refused();

    OpusEncoder encoder(1, OpusEncoderSettings{.voip = true});
    const auto tone = test::sine(1000, 2.0, 0.3);
    std::vector<float> heard;
    std::vector<float> block(480);
    const auto start = Clock::now();
    for (std::size_t i = 0; i * 960 + 960 <= tone.size(); ++i) {
        const std::string packet(
            encoder.encode(std::span<const float>(tone).subspan(i * 960, 960)));
        {
            auto lock = mixer.lock();
            mixer.talkers().at("a")->arrive(i, packet, 960, now_ns());
            // Every fifth packet the loop is busy with the talkers for 6 ms:
            // longer than the mixer's 5 ms tick, so at least one tick finds
            // the lock taken whatever the two threads' phase.
            if (i % 5 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(6));
        }
        // The device takes 20 ms of sound per 20 ms, in two periods.
        for (int period = 0; period < 2; ++period) {
            std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * i + 10 * period));
            const std::size_t got = ring.pop_some(block);
            heard.insert(heard.end(), block.begin(), block.begin() + static_cast<long>(got));
            if (!heard.empty() && got < block.size() && i > 5 && i < 90) {
                ADD_FAILURE() << "the ring ran dry at packet " << i << ": " << got << " samples";
            }
        }
    }
    mixer.stop();

    const TalkMixer::Figures figures = [&] {
        auto lock = mixer.lock();
        return mixer.figures();
    }();
    EXPECT_GT(figures.busy_skips, 0U);  // the lock was held; the mixer did not wait for it
    EXPECT_GT(figures.ticks, 300U);
    EXPECT_TRUE(playing.load());
    ASSERT_GT(heard.size(), 48000U);
    const auto middle = std::span<const float>(heard).subspan(heard.size() / 2 - 24000, 24000);
    EXPECT_GT(test::tone_amplitude(middle, 1000), 0.2);
}

// The room's music is mixed even with nobody talking, and talkers add to it.
TEST(TalkMixer, MixesTheRoomsMusicWithOrWithoutTalkers) {
    UvLoop loop;
    SpscRing<float> ring(48000);
    int music_calls = 0;
    TalkMixer mixer(
        loop.get(),
        PlaybackOut{[&ring] { return ring.read_available(); },
                    [&ring](std::span<const float> mix) { return ring.push_all(mix); }, [](bool) {},
                    [&music_calls](std::span<float> mono, std::int64_t) {
                        ++music_calls;
                        for (float& v : mono) v += 0.1F;
                        return true;
                    }},
        nullptr);
    {
        auto lock = mixer.lock();
        mixer.set(TalkMixer::Settings{});
    }
    mixer.tick(now_ns());
    EXPECT_EQ(music_calls, 1);
    std::vector<float> out(4096);
    const std::size_t got = ring.pop_some(out);
    ASSERT_GE(got, 480U);  // topped up to its target
    for (std::size_t i = 0; i < got; ++i) ASSERT_FLOAT_EQ(out[i], 0.1F) << i;
}

}  // namespace
}  // namespace clubvoice
