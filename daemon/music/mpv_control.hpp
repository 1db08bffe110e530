// mpv's volume, set over its JSON IPC socket (mpv --input-ipc-server=PATH):
// the music ducking's hand on the music. One connection is kept on the loop
// and never blocks it; when mpv is gone (not started yet, restarted, killed)
// the connection is tried again with a growing back-off, and the state
// change is logged once, not at every try. On reconnecting, and at stop, the
// volume it should have is sent again. Thread: loop.
#pragma once

#include "mpv_replies.hpp"
#include "uv_handles.hpp"
#include "uv_pipe_client.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace clubvoice {

class MpvControl {
  public:
    MpvControl(uv_loop_t* loop, std::string socket_path);
    MpvControl(const MpvControl&) = delete;
    MpvControl& operator=(const MpvControl&) = delete;

    // The volume mpv should have, in percent (rounded); sent when it changes
    // and whenever the connection is made again.
    void set_volume(double percent);
    // Sends `percent` as the last word and closes once it has gone out.
    void stop(double percent);

    struct Figures {
        bool connected = false;
        int volume = -1;                    // the last volume sent; -1: none yet
        std::uint64_t connects = 0;         // connections made
        std::uint64_t volume_commands = 0;  // set_property commands sent
        std::uint64_t errors = 0;           // answers other than "success"
    };
    const Figures& figures() const { return figures_; }
    const std::string& socket_path() const { return path_; }

  private:
    void connect();
    void on_connected();
    void on_lost(int status);
    void on_received(std::string_view data);
    void send_volume();

    uv_loop_t* loop_;
    std::string path_;
    UvPipeClient client_;
    UvTimer retry_;
    std::uint64_t backoff_ms_;
    MpvReplies replies_;
    int wanted_ = -1;  // the volume mpv should have
    bool reported_down_ = false;
    bool stopped_ = false;
    std::uint64_t request_id_ = 0;
    Figures figures_;
};

}  // namespace clubvoice
