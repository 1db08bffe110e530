// When the music goes down for the room's voice, and how far it is on its
// way: the one place music ducking is decided (ducking.music.*).
//
// Fed one voice-activity decision per room frame, it ducks once speech has
// lasted min_duration_ms and lets go once silence has lasted release_ms, so
// a cough does not duck and a pause between words does not release. The
// volume (mpv's percent, or a gain for the mixer) moves in a straight line
// between normal and ducked over transition_ms; a change of direction
// mid-way continues from where it is. Thread: one owner.
#pragma once

namespace clubvoice::dsp {

class MusicDuckState {
  public:
    struct Settings {
        bool enabled = true;
        int min_duration_ms = 100;
        int release_ms = 1000;
        int transition_ms = 100;
        double ducked_volume = 30.0;
        double normal_volume = 50.0;

        bool operator==(const Settings&) const = default;
    };

    MusicDuckState();
    explicit MusicDuckState(Settings settings);
    // New settings; the volume moves from where it is towards the new target.
    void apply(Settings settings);

    // One room frame of `frame_ms`: whether it held voice. Returns the volume now.
    double step(bool voice, int frame_ms);

    bool ducked() const { return ducked_; }
    double volume() const { return volume_; }
    // The target the volume is moving to.
    double target() const;

  private:
    Settings settings_;
    bool ducked_ = false;
    int voice_ms_ = 0;    // speech so far in the current run
    int silence_ms_ = 0;  // silence so far in the current run
    double volume_;
};

}  // namespace clubvoice::dsp
