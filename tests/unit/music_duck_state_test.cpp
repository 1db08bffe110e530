#include "dsp/music_duck_state.hpp"

#include <gtest/gtest.h>

namespace clubvoice::dsp {
namespace {

MusicDuckState::Settings settings() {
    return {true, 100, 1000, 100, 30.0, 50.0};
}

// Feeds `ms` of voice (or silence) in 10 ms blocks; returns the last volume.
double feed(MusicDuckState& s, bool voice, int ms) {
    double volume = s.volume();
    for (int t = 0; t < ms; t += 10) volume = s.step(voice, 10);
    return volume;
}

TEST(MusicDuckState, SpeechLongerThanTheMinimumDucksAndTheRampTakesTheTransition) {
    MusicDuckState s(settings());
    EXPECT_EQ(s.volume(), 50.0);
    feed(s, true, 90);
    EXPECT_FALSE(s.ducked()) << "90 ms of speech is under min_duration_ms";
    s.step(true, 10);
    EXPECT_TRUE(s.ducked());
    EXPECT_DOUBLE_EQ(s.volume(), 48.0) << "the first step of a 100 ms ramp over 20 points";
    EXPECT_DOUBLE_EQ(feed(s, true, 90), 30.0);
}

TEST(MusicDuckState, ShortSoundsAndPausesChangeNothing) {
    MusicDuckState s(settings());
    for (int i = 0; i < 50; ++i) {
        feed(s, true, 50);  // a cough, a clap: never 100 ms in a row
        feed(s, false, 30);
    }
    EXPECT_FALSE(s.ducked());
    EXPECT_EQ(s.volume(), 50.0);
    feed(s, true, 200);
    for (int i = 0; i < 20; ++i) {
        feed(s, false, 900);  // pauses between words: under release_ms
        feed(s, true, 20);
    }
    EXPECT_TRUE(s.ducked());
    EXPECT_EQ(s.volume(), 30.0);
}

TEST(MusicDuckState, ReleasesAfterTheSilenceAndTurnsMidRamp) {
    MusicDuckState s(settings());
    feed(s, true, 300);
    feed(s, false, 990);
    EXPECT_TRUE(s.ducked());
    s.step(false, 10);
    EXPECT_FALSE(s.ducked());
    feed(s, false, 40);
    const double mid = s.volume();
    EXPECT_GT(mid, 30.0);
    EXPECT_LT(mid, 50.0);
    EXPECT_EQ(feed(s, false, 100), 50.0);
}

TEST(MusicDuckState, AChangeOfDirectionMidRampGoesOnFromWhereItIs) {
    auto quick = settings();
    quick.min_duration_ms = 10;
    MusicDuckState s(quick);
    feed(s, true, 200);
    feed(s, false, 1000);  // released on the last block: 2 points up
    EXPECT_DOUBLE_EQ(feed(s, false, 30), 38.0);
    EXPECT_DOUBLE_EQ(s.step(true, 10), 36.0) << "down again from 38, no jump";
}

TEST(MusicDuckState, DisabledNeverDucksAndAReloadTakesEffect) {
    auto off = settings();
    off.enabled = false;
    MusicDuckState s(off);
    EXPECT_EQ(feed(s, true, 2000), 50.0);
    s.apply(settings());
    EXPECT_EQ(feed(s, true, 300), 30.0);
    off.normal_volume = 70;
    s.apply(off);  // disabled while ducked: the music comes back up, to the new normal
    EXPECT_FALSE(s.ducked());
    EXPECT_EQ(feed(s, false, 2000), 70.0);
}

TEST(MusicDuckState, NoTransitionJumps) {
    auto sharp = settings();
    sharp.transition_ms = 0;
    MusicDuckState s(sharp);
    EXPECT_EQ(feed(s, true, 100), 30.0);
}

TEST(MusicDuckState, AnHourOfSpeechDoesNotOverflow) {
    MusicDuckState s(settings());
    EXPECT_EQ(feed(s, true, 3600 * 1000), 30.0);
    EXPECT_EQ(feed(s, false, 1100), 50.0);
}

}  // namespace
}  // namespace clubvoice::dsp
