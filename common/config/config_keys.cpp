#include "config_keys.hpp"

#include "config_key_kinds.hpp"

#include "ip_network.hpp"
#include "log.hpp"
#include "server_url.hpp"
#include "version.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

namespace clubvoice {
namespace {

using namespace config_kinds;

constexpr std::array<std::pair<std::string_view, AudioMode>, 3> kModes{{
    {"listen", AudioMode::listen},
    {"half", AudioMode::half},
    {"full", AudioMode::full},
}};

constexpr std::array<std::pair<std::string_view, OpusApplication>, 2> kApplications{{
    {"audio", OpusApplication::audio},
    {"voip", OpusApplication::voip},
}};

constexpr std::array<std::pair<std::string_view, ClusterRole>, 3> kRoles{{
    {"standalone", ClusterRole::standalone},
    {"origin", ClusterRole::origin},
    {"edge", ClusterRole::edge},
}};

// A room name is part of Redis keys and channels: short and plain.
std::string room_problem(const std::string& text) {
    const bool plain =
        !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
        });
    if (plain) return {};
    return fmt::format("must be 1 to 64 letters, digits, '-', '_' or '.' (got \"{}\")", text);
}

constexpr std::array<std::pair<std::string_view, AccessRule>, 2> kAccessRules{{
    {"open", AccessRule::open},
    {"token", AccessRule::token},
}};

std::string icecast_url_problem(const std::string& text) {
    std::string problem;
    const auto url = parse_server_url(text, Config::Icecast::kSchemes, &problem);
    if (!url) return fmt::format("{} (got \"{}\")", problem, text);
    if (url->path.size() < 2) {
        return fmt::format("needs a mount point, e.g. http://host:8000/room.opus (got \"{}\")",
                           text);
    }
    return {};
}

std::string network_problem(const std::string& text) {
    std::string problem;
    IpNetwork::parse(text, &problem);
    return problem;
}

// Opus packet durations a frame may have (2.5 and 5 ms cost too much per packet).
constexpr std::array<std::pair<std::string_view, int>, 4> kFrameMs{{
    {"10", 10},
    {"20", 20},
    {"40", 40},
    {"60", 60},
}};

std::vector<ConfigKey> make_keys() {
    std::vector<ConfigKey> keys;
    keys.push_back(restart_only(string_key(
        "server.host", [](Config& c) -> std::string& { return c.server.host; },
        "address to listen on (0.0.0.0: every IPv4 address)")));
    keys.push_back(restart_only(int_key(
        "server.port", [](Config& c) -> int& { return c.server.port; }, 1, 65535,
        "TCP port for HTTP, WebSocket and Socket.IO")));
    keys.push_back(int_key(
        "server.ping_interval_ms", [](Config& c) -> int& { return c.server.ping_interval_ms; }, 50,
        600000, "Engine.IO heartbeat: how often the server pings each client"));
    keys.push_back(int_key(
        "server.ping_timeout_ms", [](Config& c) -> int& { return c.server.ping_timeout_ms; }, 50,
        600000, "Engine.IO heartbeat: how long a client may take to answer a ping"));
    keys.push_back(int_key(
        "server.connect_timeout_ms", [](Config& c) -> int& { return c.server.connect_timeout_ms; },
        50, 600000, "Socket.IO: how long a new session may take to join a namespace"));
    keys.push_back(int_key(
        "server.max_payload_bytes", [](Config& c) -> int& { return c.server.max_payload_bytes; },
        1024, 100000000, "largest Engine.IO packet or polling request body a client may send"));
    keys.push_back(int_key(
        "server.max_messages_per_s", [](Config& c) -> int& { return c.server.max_messages_per_s; },
        10, 1000000, "Engine.IO messages a client may send per second (twice as many in a burst)"));
    keys.push_back(string_list_key(
        "server.cors_origins",
        [](Config& c) -> std::vector<std::string>& { return c.server.cors_origins; },
        "origins allowed to use the server from other sites; [\"*\"] allows every origin"));
    keys.push_back(restart_only(optional_path_key(
        "server.tls_cert_file", [](Config& c) -> std::string& { return c.server.tls_cert_file; },
        "PEM certificate (chain) for HTTPS and WSS; empty serves plain HTTP")));
    keys.push_back(restart_only(optional_path_key(
        "server.tls_key_file", [](Config& c) -> std::string& { return c.server.tls_key_file; },
        "PEM private key of tls_cert_file")));
    keys.push_back(string_list_key(
        "server.trusted_proxies",
        [](Config& c) -> std::vector<std::string>& { return c.server.trusted_proxies; },
        "reverse proxies (IP networks) whose X-Forwarded-For / Forwarded headers are believed",
        network_problem));
    keys.push_back(int_key(
        "server.max_clients", [](Config& c) -> int& { return c.server.max_clients; }, 1, 1000000,
        "most Engine.IO sessions at once; more are refused (503)"));
    keys.push_back(int_key(
        "server.max_clients_per_ip", [](Config& c) -> int& { return c.server.max_clients_per_ip; },
        1, 1000000, "most sessions at once from one client address; more are refused (429)"));
    keys.push_back(int_key(
        "server.handshakes_per_ip_per_s",
        [](Config& c) -> int& { return c.server.handshakes_per_ip_per_s; }, 1, 1000000,
        "new sessions one client address may open per second (twice as many in a burst)"));
    keys.push_back(int_key(
        "server.max_polling_s", [](Config& c) -> int& { return c.server.max_polling_s; }, 10, 86400,
        "longest a session may stay on HTTP long-polling without upgrading to WebSocket"));
    keys.push_back(choice_key<AccessRule>(
        "access.listen", [](Config& c) -> AccessRule& { return c.access.listen; }, kAccessRules,
        "open: anyone may listen; token: a listener, talker or admin token is needed"));
    keys.push_back(choice_key<AccessRule>(
        "access.talk", [](Config& c) -> AccessRule& { return c.access.talk; }, kAccessRules,
        "open: anyone who may listen may talk; token: a talker or admin token is needed"));
    keys.push_back(string_list_key(
        "access.admin_networks",
        [](Config& c) -> std::vector<std::string>& { return c.access.admin_networks; },
        "client networks that may read /status, /metrics and the debug page without a token",
        network_problem));
    keys.push_back(token_list_key(
        "access.tokens", [](Config& c) -> std::vector<AccessToken>& { return c.access.tokens; },
        "tokens as {name, role: listener|talker|admin, hash} (clubvoiced --new-token)"));
    keys.push_back(choice_key<AudioMode>(
        "audio.mode", [](Config& c) -> AudioMode& { return c.audio.mode; }, kModes,
        "listen: nobody talks; half: one talker holds the floor; full: every talker is mixed"));
    keys.push_back(choice_key<int>(
        "audio.frame_ms", [](Config& c) -> int& { return c.audio.frame_ms; }, kFrameMs,
        "audio per Opus packet and per audio event, in ms"));
    keys.push_back(int_key(
        "audio.period_ms", [](Config& c) -> int& { return c.audio.period_ms; }, 1, 100,
        "ALSA period: how often the audio thread moves sound to and from the devices"));
    keys.push_back(int_key(
        "audio.buffer_ms", [](Config& c) -> int& { return c.audio.buffer_ms; }, 2, 2000,
        "ALSA buffer (at least two periods): playback latency and room for scheduling delays"));
    keys.push_back(int_key(
        "audio.rt_priority", [](Config& c) -> int& { return c.audio.rt_priority; }, 0, 99,
        "SCHED_FIFO priority of the audio thread; 0 runs it at normal priority"));
    keys.push_back(string_key(
        "audio.capture.device", [](Config& c) -> std::string& { return c.audio.capture.device; },
        "ALSA PCM the room is captured from"));
    keys.push_back(int_key(
        "audio.capture.channels", [](Config& c) -> int& { return c.audio.capture.channels; }, 1, 2,
        "channels captured and streamed: 1 (mono) or 2 (stereo)"));
    keys.push_back(double_key(
        "audio.capture.gain_db", [](Config& c) -> double& { return c.audio.capture.gain_db; },
        -40.0, 40.0, "gain applied to the room sound before encoding, in dB"));
    keys.push_back(int_key(
        "audio.capture.highpass_hz", [](Config& c) -> int& { return c.audio.capture.highpass_hz; },
        0, 1000, "high-pass filter corner removing rumble and hum, in Hz; 0 turns it off"));
    keys.push_back(bool_key(
        "audio.capture.gate", [](Config& c) -> bool& { return c.audio.capture.gate; },
        "noise gate: mute the room while it is quieter than gate_threshold_db"));
    keys.push_back(double_key(
        "audio.capture.gate_threshold_db",
        [](Config& c) -> double& { return c.audio.capture.gate_threshold_db; }, -100.0, 0.0,
        "level (peak dBFS) below which the noise gate closes"));
    keys.push_back(string_key(
        "audio.playback.device", [](Config& c) -> std::string& { return c.audio.playback.device; },
        "ALSA PCM the talkers are played to"));
    keys.push_back(optional_string_key(
        "audio.music.device", [](Config& c) -> std::string& { return c.audio.music.device; },
        "ALSA PCM of the music input (any rate from 8 to 64 kHz, its own clock); empty: none"));
    keys.push_back(double_key(
        "audio.music.gain_db", [](Config& c) -> double& { return c.audio.music.gain_db; }, -60.0,
        20.0, "level of the music in what listeners hear, in dB"));
    keys.push_back(double_key(
        "audio.music.room_gain_db", [](Config& c) -> double& { return c.audio.music.room_gain_db; },
        -60.0, 20.0, "level of the music in the room's playback, in dB"));
    keys.push_back(int_key(
        "opus.bitrate_kbps", [](Config& c) -> int& { return c.opus.bitrate_kbps; }, 6, 510,
        "Opus target bitrate (constrained VBR), in kbit/s"));
    keys.push_back(choice_key<OpusApplication>(
        "opus.application", [](Config& c) -> OpusApplication& { return c.opus.application; },
        kApplications, "audio: music and mixed sound; voip: tuned for speech"));
    keys.push_back(int_key(
        "opus.complexity", [](Config& c) -> int& { return c.opus.complexity; }, 0, 10,
        "Opus encoder effort, 0 (cheapest) to 10 (best quality)"));
    keys.push_back(bool_key(
        "opus.fec", [](Config& c) -> bool& { return c.opus.fec; },
        "in-band forward error correction (used in Opus' speech modes, e.g. with voip)"));
    keys.push_back(int_key(
        "opus.packet_loss_pct", [](Config& c) -> int& { return c.opus.packet_loss_pct; }, 0, 100,
        "packet loss the encoder plans for, in percent; FEC needs it above 0"));
    keys.push_back(int_key(
        "talk.jitter_target_ms", [](Config& c) -> int& { return c.talk.jitter_target_ms; }, 10,
        1000, "audio a talker's jitter buffer holds before playing, and aims to keep, in ms"));
    keys.push_back(int_key(
        "talk.jitter_max_ms", [](Config& c) -> int& { return c.talk.jitter_max_ms; }, 20, 5000,
        "most audio a talker's jitter buffer holds; more is dropped back to the target, in ms"));
    keys.push_back(int_key(
        "talk.max_talkers", [](Config& c) -> int& { return c.talk.max_talkers; }, 1, 64,
        "full mode: most clients talking at once"));
    keys.push_back(double_key(
        "talk.gain_db", [](Config& c) -> double& { return c.talk.gain_db; }, -40.0, 20.0,
        "gain applied to each talker in the playback mix, in dB"));
    keys.push_back(double_key(
        "talk.silence_threshold_db",
        [](Config& c) -> double& { return c.talk.silence_threshold_db; }, -100.0, 0.0,
        "level (RMS dBFS) below which a talker counts as silent"));
    keys.push_back(int_key(
        "talk.floor_silence_s", [](Config& c) -> int& { return c.talk.floor_silence_s; }, 0, 3600,
        "half mode: a floor holder silent this long loses the floor; 0 never releases it"));
    keys.push_back(bool_key(
        "talk.mute_floor_holder", [](Config& c) -> bool& { return c.talk.mute_floor_holder; },
        "half mode: send no room audio to the floor holder (no echo of their own voice)"));
    keys.push_back(bool_key(
        "ducking.room.enabled", [](Config& c) -> bool& { return c.ducking.room.enabled; },
        "lower the room audio sent to listeners while a browser talker is loud"));
    keys.push_back(double_key(
        "ducking.room.threshold_db",
        [](Config& c) -> double& { return c.ducking.room.threshold_db; }, -100.0, 0.0,
        "talker level (RMS dBFS) above which the room is ducked"));
    keys.push_back(double_key(
        "ducking.room.gain_db", [](Config& c) -> double& { return c.ducking.room.gain_db; }, -60.0,
        0.0, "gain applied to the room while ducked, in dB"));
    keys.push_back(int_key(
        "ducking.room.attack_ms", [](Config& c) -> int& { return c.ducking.room.attack_ms; }, 1,
        5000, "how quickly the room is lowered, in ms"));
    keys.push_back(int_key(
        "ducking.room.release_ms", [](Config& c) -> int& { return c.ducking.room.release_ms; }, 1,
        10000, "how quickly the room comes back once talkers are quiet, in ms"));
    keys.push_back(bool_key(
        "ducking.music.enabled", [](Config& c) -> bool& { return c.ducking.music.enabled; },
        "lower the music while the room speaks (a voice detector listens to the room)"));
    keys.push_back(int_key(
        "ducking.music.min_duration_ms",
        [](Config& c) -> int& { return c.ducking.music.min_duration_ms; }, 0, 10000,
        "speech this long before the music goes down, in ms"));
    keys.push_back(int_key(
        "ducking.music.release_ms", [](Config& c) -> int& { return c.ducking.music.release_ms; }, 0,
        60000, "silence this long before the music comes back, in ms"));
    keys.push_back(int_key(
        "ducking.music.transition_ms",
        [](Config& c) -> int& { return c.ducking.music.transition_ms; }, 0, 10000,
        "how long the music takes to go down or come back, in ms"));
    keys.push_back(int_key(
        "ducking.music.ducked_volume",
        [](Config& c) -> int& { return c.ducking.music.ducked_volume; }, 0, 130,
        "mpv volume (percent) while the room speaks"));
    keys.push_back(int_key(
        "ducking.music.normal_volume",
        [](Config& c) -> int& { return c.ducking.music.normal_volume; }, 0, 130,
        "mpv volume (percent) otherwise, and when the daemon stops"));
    keys.push_back(optional_path_key(
        "mpv.ipc_socket", [](Config& c) -> std::string& { return c.mpv.ipc_socket; },
        "mpv's --input-ipc-server socket, whose volume is ducked; empty: no mpv control"));
    keys.push_back(choice_key<log::Level>(
        "log.level", [](Config& c) -> log::Level& { return c.log.level; }, log::kLevelNames,
        "least important messages logged (-v raises it to info, -vv to debug)"));
    keys.push_back(string_key(
        "web.root", [](Config& c) -> std::string& { return c.web.root; },
        "directory the web client is served from"));
    keys.push_back(bool_key(
        "record.enabled", [](Config& c) -> bool& { return c.record.enabled; },
        "record the room to Ogg Opus files"));
    keys.push_back(absolute_path_key(
        "record.dir", [](Config& c) -> std::string& { return c.record.dir; },
        "directory of the recordings, named by UTC start time (20261130T031500Z.opus)"));
    keys.push_back(int_key(
        "record.segment_s", [](Config& c) -> int& { return c.record.segment_s; }, 1, 86400,
        "a new recording file every this many seconds"));
    keys.push_back(int_key(
        "record.keep_days", [](Config& c) -> int& { return c.record.keep_days; }, 0, 36500,
        "recordings older than this many days are deleted; 0 keeps all"));
    keys.push_back(typed_key<std::string>(
        "icecast.url", [](Config& c) -> std::string& { return c.icecast.url; },
        "Icecast mount to feed as a source, http://host:port/mount.opus; empty: off",
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "an http:// URL or \"\""); !p.empty()) return p;
            if (!n.Scalar().empty()) {
                if (std::string p = icecast_url_problem(n.Scalar()); !p.empty()) return p;
            }
            out = n.Scalar();
            return {};
        },
        [](const std::string& url) { return url; }, true));
    keys.push_back(string_key(
        "icecast.user", [](Config& c) -> std::string& { return c.icecast.user; },
        "user name the Icecast source logs in with"));
    keys.push_back(optional_string_key(
        "icecast.password", [](Config& c) -> std::string& { return c.icecast.password; },
        "password the Icecast source logs in with (Icecast's source-password)"));
    keys.push_back(restart_only(choice_key<ClusterRole>(
        "cluster.role", [](Config& c) -> ClusterRole& { return c.cluster.role; }, kRoles,
        "standalone: one box; origin: publishes the room to Redis; edge: serves it from Redis")));
    keys.push_back(restart_only(typed_key<std::string>(
        "cluster.redis_url", [](Config& c) -> std::string& { return c.cluster.redis_url; },
        "the Redis server origins and edges meet at, redis://host:port",
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "a redis:// URL"); !p.empty()) return p;
            std::string problem;
            const auto url = parse_server_url(n.Scalar(), Config::Cluster::kSchemes, &problem);
            if (!url) return fmt::format("{} (got \"{}\")", problem, n.Scalar());
            if (url->path != "/") {
                return fmt::format("takes no path or database (got \"{}\")", n.Scalar());
            }
            out = n.Scalar();
            return {};
        },
        [](const std::string& url) { return url; })));
    keys.push_back(restart_only(typed_key<std::string>(
        "cluster.room", [](Config& c) -> std::string& { return c.cluster.room; },
        "the room's name on Redis: its channel and keys",
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "a room name"); !p.empty()) return p;
            if (std::string p = room_problem(n.Scalar()); !p.empty()) return p;
            out = n.Scalar();
            return {};
        },
        [](const std::string& room) { return room; })));
    return keys;
}

}  // namespace

std::span<const ConfigKey> config_keys() {
    static const std::vector<ConfigKey> keys = make_keys();
    return keys;
}

const ConfigKey* find_config_key(std::string_view path) {
    for (const auto& key : config_keys()) {
        if (key.path == path) return &key;
    }
    return nullptr;
}

bool is_config_group(std::string_view path) {
    for (const auto& key : config_keys()) {
        if (key.path.size() > path.size() && key.path.starts_with(path) &&
            key.path[path.size()] == '.') {
            return true;
        }
    }
    return false;
}

std::string_view to_string(AudioMode mode) {
    for (const auto& [name, value] : kModes) {
        if (value == mode) return name;
    }
    return "?";
}

std::string_view to_string(AccessRule rule) {
    for (const auto& [name, value] : kAccessRules) {
        if (value == rule) return name;
    }
    return "?";
}

std::string_view to_string(ClusterRole role) {
    for (const auto& [name, value] : kRoles) {
        if (value == role) return name;
    }
    return "?";
}

std::string_view to_string(OpusApplication application) {
    for (const auto& [name, value] : kApplications) {
        if (value == application) return name;
    }
    return "?";
}

Config default_config() {
    Config config;
    config.web.root = std::string(kDefaultWebRoot);
    return config;
}

}  // namespace clubvoice
