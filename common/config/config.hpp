// The daemon's configuration: typed values with their defaults.
//
// Every key is declared once, in config_keys.cpp; that table drives parsing
// (config_loader.cpp), --check-config and the test that etc/clubvoice.yaml
// documents every key. Thread: loop (a Config is a value; copies are cheap).
#pragma once

#include "access_settings.hpp"
#include "log.hpp"
#include "server_url.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

enum class AudioMode { listen, half, full };
std::string_view to_string(AudioMode mode);  // "listen", "half", "full"

// standalone: one box; origin: the box with the sound card, publishing its
// packets to Redis; edge: no sound card, serving listeners from Redis.
enum class ClusterRole { standalone, origin, edge };
std::string_view to_string(ClusterRole role);  // "standalone", "origin", "edge"

enum class OpusApplication { audio, voip };
std::string_view to_string(OpusApplication application);  // "audio", "voip"

std::string_view to_string(AccessRule rule);  // "open", "token"

struct Config {
    struct Server {
        std::string host = "0.0.0.0";
        int port = 5000;
        int ping_interval_ms = 25000;
        int ping_timeout_ms = 20000;
        int connect_timeout_ms = 45000;
        int max_payload_bytes = 1000000;
        int max_messages_per_s = 1000;
        std::vector<std::string> cors_origins;  // empty: same origin only
        std::string tls_cert_file;              // both set: HTTPS and WSS only
        std::string tls_key_file;
        std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-For is believed
        int max_clients = 5000;
        int max_clients_per_ip = 64;
        int handshakes_per_ip_per_s = 10;  // twice as many in a burst
        int max_polling_s = 600;           // a session that never upgrades is closed after this
    } server;

    AccessSettings access;

    struct Device {
        std::string device = "default";
    };
    struct Capture : Device {
        int channels = 1;
        double gain_db = 0.0;
        int highpass_hz = 100;  // 0: off
        bool gate = false;
        double gate_threshold_db = -50.0;
    };
    struct Music {
        std::string device;           // empty: no music input
        double gain_db = 0.0;         // the music in what listeners hear
        double room_gain_db = -10.5;  // the music in the room's playback (about x0.3)
    };
    struct Audio {
        AudioMode mode = AudioMode::full;
        int frame_ms = 20;  // 10, 20, 40 or 60: one Opus packet
        int period_ms = 10;
        int buffer_ms = 40;
        int rt_priority = 60;  // SCHED_FIFO priority of the audio thread; 0: normal scheduling
        Capture capture;
        Device playback;
        Music music;
    } audio;

    struct Opus {
        int bitrate_kbps = 32;  // with the audio event's overhead, 64 kbit/s per listener
        OpusApplication application = OpusApplication::audio;
        int complexity = 10;
        bool fec = true;
        int packet_loss_pct = 5;
    } opus;

    struct Talk {
        int jitter_target_ms = 40;  // a talker's buffer before playing
        int jitter_max_ms = 200;    // more is trimmed back to the target
        int max_talkers = 8;        // full mode
        double gain_db = 0.0;       // talkers in the playback mix
        double silence_threshold_db = -50.0;
        int floor_silence_s = 10;  // half mode: silent holder loses the floor; 0: never
        bool mute_floor_holder = false;
    } talk;

    struct Ducking {
        struct Room {
            bool enabled = false;
            double threshold_db = -40.0;  // a talker louder than this ducks the room
            double gain_db = -12.0;
            int attack_ms = 20;
            int release_ms = 400;
        } room;
        struct Music {
            bool enabled = true;
            int min_duration_ms = 100;  // speech this long before the music goes down
            int release_ms = 1000;      // silence this long before it comes back
            int transition_ms = 100;    // the ramp between the two volumes
            int ducked_volume = 30;     // mpv volume (percent) while the room speaks
            int normal_volume = 50;     // otherwise, and when the daemon stops
        } music;
    } ducking;

    struct Mpv {
        std::string ipc_socket;  // mpv --input-ipc-server path; empty: duck in the mixer
    } mpv;

    struct Log {
        log::Level level = log::Level::info;
    } log;

    struct Web {
        std::string root;  // set from the build's default by default_config()
    } web;

    struct Record {
        bool enabled = false;
        std::string dir = "/var/lib/clubvoice/recordings";  // files named by UTC start time
        int segment_s = 3600;                               // a new file every this many seconds
        int keep_days = 30;                                 // older files are deleted; 0 keeps all
    } record;

    struct Icecast {
        // Plain HTTP only: libshout's TLS has not been tried against a server here.
        static constexpr std::array<UrlScheme, 1> kSchemes{{{"http", 80}}};
        std::string url;  // http://host:port/mount.opus; empty: no Icecast source
        std::string user = "source";
        std::string password;
    } icecast;

    struct Cluster {
        static constexpr std::array<UrlScheme, 1> kSchemes{{{"redis", 6379}}};
        ClusterRole role = ClusterRole::standalone;
        std::string redis_url = "redis://127.0.0.1:6379";
        std::string room = "default";  // the room's channel name
    } cluster;
};

// The defaults, with the build's web root filled in.
Config default_config();

// A file that cannot be used. what() is one line: "FILE[:LINE]: KEY: PROBLEM".
// Text from the file (a quoted key or value) may hold line breaks; messages
// show them as \n and \r so that each stays one line.
inline std::string one_line(std::string text) {
    for (std::size_t at = text.find_first_of("\r\n"); at != std::string::npos;
         at = text.find_first_of("\r\n", at + 2)) {
        text.replace(at, 1, text[at] == '\n' ? "\\n" : "\\r");
    }
    return text;
}

// One line naming file, line, key and problem.
class ConfigError : public std::runtime_error {
  public:
    explicit ConfigError(const std::string& message) : std::runtime_error(one_line(message)) {}
};

struct LoadedConfig {
    Config config;
    std::vector<std::string> warnings;  // e.g. unknown keys, one line each
};

// Parses YAML text; `origin` names the source in messages (usually the path).
LoadedConfig load_config_text(const std::string& text, const std::string& origin);
// Reads and parses a file. Throws ConfigError.
LoadedConfig load_config_file(const std::string& path);

}  // namespace clubvoice
