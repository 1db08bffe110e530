#include "config.hpp"
#include "config_keys.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <string>

namespace clubvoice {
namespace {

std::string error_of(const std::string& text) {
    try {
        load_config_text(text, "test.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Config, EmptyFileGivesDefaults) {
    LoadedConfig loaded = load_config_text("", "test.yaml");
    EXPECT_EQ(loaded.config.server.host, "0.0.0.0");
    EXPECT_EQ(loaded.config.server.port, 5000);
    EXPECT_EQ(loaded.config.audio.mode, AudioMode::full);
    EXPECT_EQ(loaded.config.audio.capture.device, "default");
    EXPECT_EQ(loaded.config.audio.playback.device, "default");
    EXPECT_FALSE(loaded.config.web.root.empty());
    EXPECT_TRUE(loaded.warnings.empty());
}

TEST(Config, GoodFileSetsEveryValue) {
    LoadedConfig loaded = load_config_text(R"(
server:
  host: 127.0.0.1
  port: 8080
audio:
  mode: half
  capture:  { device: "hw:1" }
  playback: { device: plughw:2 }
log: { level: debug }
web: { root: /srv/web }
)",
                                           "test.yaml");
    EXPECT_EQ(loaded.config.server.host, "127.0.0.1");
    EXPECT_EQ(loaded.config.server.port, 8080);
    EXPECT_EQ(loaded.config.audio.mode, AudioMode::half);
    EXPECT_EQ(loaded.config.audio.capture.device, "hw:1");
    EXPECT_EQ(loaded.config.audio.playback.device, "plughw:2");
    EXPECT_EQ(loaded.config.log.level, log::Level::debug);
    EXPECT_EQ(loaded.config.web.root, "/srv/web");
    EXPECT_TRUE(loaded.warnings.empty());
}

TEST(Config, BadChoiceNamesLineKeyAndChoices) {
    EXPECT_EQ(error_of("audio:\n  mode: loud\n"),
              "test.yaml:2: audio.mode: must be one of listen, half, full (got \"loud\")");
}

TEST(Config, BadIntegers) {
    EXPECT_EQ(error_of("server:\n  port: 70000\n"),
              "test.yaml:2: server.port: must be an integer from 1 to 65535 (got \"70000\")");
    EXPECT_EQ(error_of("server:\n  port: 0\n"),
              "test.yaml:2: server.port: must be an integer from 1 to 65535 (got \"0\")");
    EXPECT_EQ(error_of("server:\n  port: 50.5\n"),
              "test.yaml:2: server.port: must be an integer from 1 to 65535 (got \"50.5\")");
    EXPECT_EQ(error_of("server:\n  port: 5000x\n"),
              "test.yaml:2: server.port: must be an integer from 1 to 65535 (got \"5000x\")");
}

TEST(Config, MissingAndWrongShapedValues) {
    EXPECT_EQ(error_of("server:\n  port:\n"),
              "test.yaml:2: server.port: needs a value (an integer from 1 to 65535)");
    EXPECT_EQ(error_of("server:\n  host: [a, b]\n"), "test.yaml:2: server.host: must be a string");
    EXPECT_EQ(error_of("server:\n  host: \"\"\n"), "test.yaml:2: server.host: must not be empty");
    EXPECT_EQ(error_of("audio: full\n"), "test.yaml:1: audio: must be a mapping of keys");
    EXPECT_EQ(error_of("- a\n- b\n"), "test.yaml:1: (top level): must be a mapping of keys");
}

TEST(Config, AudioAndOpusKeys) {
    Config c = load_config_text(R"(
audio:
  frame_ms: 10
  period_ms: 5
  buffer_ms: 20
  rt_priority: 0
  capture: { channels: 2, gain_db: -3.5, highpass_hz: 0, gate: true, gate_threshold_db: -60 }
opus: { bitrate_kbps: 64, application: voip, complexity: 5, fec: false, packet_loss_pct: 0 }
)",
                                "test.yaml")
                   .config;
    EXPECT_EQ(c.audio.frame_ms, 10);
    EXPECT_EQ(c.audio.period_ms, 5);
    EXPECT_EQ(c.audio.buffer_ms, 20);
    EXPECT_EQ(c.audio.rt_priority, 0);
    EXPECT_EQ(c.audio.capture.channels, 2);
    EXPECT_EQ(c.audio.capture.gain_db, -3.5);
    EXPECT_EQ(c.audio.capture.highpass_hz, 0);
    EXPECT_TRUE(c.audio.capture.gate);
    EXPECT_EQ(c.audio.capture.gate_threshold_db, -60.0);
    EXPECT_EQ(c.opus.bitrate_kbps, 64);
    EXPECT_EQ(c.opus.application, OpusApplication::voip);
    EXPECT_EQ(c.opus.complexity, 5);
    EXPECT_FALSE(c.opus.fec);
    EXPECT_EQ(c.opus.packet_loss_pct, 0);
}

TEST(Config, BadAudioValues) {
    EXPECT_EQ(error_of("audio:\n  frame_ms: 30\n"),
              "test.yaml:2: audio.frame_ms: must be one of 10, 20, 40, 60 (got \"30\")");
    EXPECT_EQ(error_of("audio:\n  capture:\n    gain_db: 41\n"),
              "test.yaml:3: audio.capture.gain_db: must be a number from -40 to 40 (got \"41\")");
    EXPECT_EQ(error_of("audio:\n  capture:\n    gain_db: .nan\n"),
              "test.yaml:3: audio.capture.gain_db: must be a number from -40 to 40 (got \".nan\")");
    EXPECT_EQ(error_of("opus:\n  fec: maybe\n"),
              "test.yaml:2: opus.fec: must be true or false (got \"maybe\")");
    EXPECT_EQ(error_of("opus:\n  application: music\n"),
              "test.yaml:2: opus.application: must be one of audio, voip (got \"music\")");
}

TEST(Config, RecordKeys) {
    const Config defaults = load_config_text("", "test.yaml").config;
    EXPECT_FALSE(defaults.record.enabled);
    EXPECT_EQ(defaults.record.dir, "/var/lib/clubvoice/recordings");
    EXPECT_EQ(defaults.record.segment_s, 3600);
    EXPECT_EQ(defaults.record.keep_days, 30);
    const Config c =
        load_config_text("record: {enabled: true, dir: /srv/rec, segment_s: 1, keep_days: 0}\n",
                         "test.yaml")
            .config;
    EXPECT_TRUE(c.record.enabled);
    EXPECT_EQ(c.record.dir, "/srv/rec");
    EXPECT_EQ(c.record.segment_s, 1);
    EXPECT_EQ(c.record.keep_days, 0);
}

TEST(Config, IcecastKeys) {
    const Config defaults = load_config_text("", "test.yaml").config;
    EXPECT_EQ(defaults.icecast.url, "");
    EXPECT_EQ(defaults.icecast.user, "source");
    EXPECT_EQ(defaults.icecast.password, "");
    const Config c = load_config_text(
                         "icecast: {url: \"http://127.0.0.1:8000/room.opus\", user: feeder, "
                         "password: hackme}\n",
                         "test.yaml")
                         .config;
    EXPECT_EQ(c.icecast.url, "http://127.0.0.1:8000/room.opus");
    EXPECT_EQ(c.icecast.user, "feeder");
    EXPECT_EQ(c.icecast.password, "hackme");
    EXPECT_EQ(load_config_text("icecast:\n  url:\n", "test.yaml").config.icecast.url, "");
}

TEST(Config, BadIcecastValues) {
    EXPECT_EQ(error_of("icecast:\n  url: https://host/room.opus\n"),
              "test.yaml:2: icecast.url: must begin with http:// (got \"https://host/room.opus\")");
    EXPECT_EQ(error_of("icecast:\n  url: http://host:8000\n"),
              "test.yaml:2: icecast.url: needs a mount point, e.g. http://host:8000/room.opus "
              "(got \"http://host:8000\")");
    EXPECT_EQ(error_of("icecast:\n  url: http://source:pw@host/room.opus\n"),
              "test.yaml:2: icecast.url: must not carry a user or password (they have keys of "
              "their own) (got \"http://source:pw@host/room.opus\")");
    EXPECT_EQ(error_of("icecast:\n  url: http://host:99999/a\n"),
              "test.yaml:2: icecast.url: port must be 1 to 65535 (got \"99999\") (got "
              "\"http://host:99999/a\")");
    EXPECT_EQ(error_of("icecast:\n  user: \"\"\n"), "test.yaml:2: icecast.user: must not be empty");
}

TEST(Config, BadRecordValues) {
    EXPECT_EQ(error_of("record:\n  dir: recordings\n"),
              "test.yaml:2: record.dir: must be an absolute path (got \"recordings\")");
    EXPECT_EQ(error_of("record:\n  dir: \"\"\n"),
              "test.yaml:2: record.dir: must be an absolute path (got \"\")");
    EXPECT_EQ(error_of("record:\n  segment_s: 0\n"),
              "test.yaml:2: record.segment_s: must be an integer from 1 to 86400 (got \"0\")");
    EXPECT_EQ(error_of("record:\n  keep_days: -1\n"),
              "test.yaml:2: record.keep_days: must be an integer from 0 to 36500 (got \"-1\")");
    EXPECT_EQ(error_of("record:\n  enabled: sometimes\n"),
              "test.yaml:2: record.enabled: must be true or false (got \"sometimes\")");
}

TEST(Config, AccessKeys) {
    const std::string hash = "sha256$" + std::string(32, 'a') + "$" + std::string(64, 'b');
    Config c = load_config_text(
                   "access:\n  listen: token\n  talk: open\n"
                   "  admin_networks: [10.0.0.0/8, \"fd00::/8\"]\n"
                   "  tokens:\n    - {name: desk, role: talker, hash: \"" +
                       hash +
                       "\"}\n"
                       "server: {trusted_proxies: [127.0.0.1], max_clients_per_ip: 8}\n",
                   "t")
                   .config;
    EXPECT_EQ(c.access.listen, AccessRule::token);
    EXPECT_EQ(c.access.talk, AccessRule::open);
    EXPECT_EQ(c.access.admin_networks, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
    ASSERT_EQ(c.access.tokens.size(), 1U);
    EXPECT_EQ(c.access.tokens[0], (AccessToken{"desk", Role::talker, hash}));
    EXPECT_EQ(c.server.trusted_proxies, std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(c.server.max_clients_per_ip, 8);
    // The package's default: listening open, talking by token only.
    EXPECT_EQ(default_config().access.talk, AccessRule::token);
    EXPECT_EQ(default_config().access.listen, AccessRule::open);
}

TEST(Config, BadAccessValues) {
    EXPECT_EQ(error_of("access:\n  admin_networks: [10.1.0.0/8]\n"),
              "test.yaml:2: access.admin_networks: \"10.1.0.0/8\" has bits set past its prefix "
              "length");
    EXPECT_EQ(error_of("server:\n  trusted_proxies: [proxy.example]\n"),
              "test.yaml:2: server.trusted_proxies: \"proxy.example\" is not an IP address or "
              "network");
    EXPECT_EQ(error_of("access:\n  tokens: [{name: desk, role: owner, hash: x}]\n"),
              "test.yaml:2: access.tokens: desk: role must be listener, talker or admin");
    EXPECT_EQ(error_of("access:\n  tokens: [{name: desk, role: talker, hash: x, extra: 1}]\n"),
              "test.yaml:2: access.tokens: each entry must be {name, role, hash} (unknown key "
              "\"extra\")");
    EXPECT_EQ(error_of("access:\n  tokens: [desk]\n"),
              "test.yaml:2: access.tokens: each entry must be {name, role, hash}");
    EXPECT_NE(error_of("access:\n  tokens: [{name: desk, role: talker, hash: \"md5$1\"}]\n")
                  .find("access.tokens: desk: hash is not a token hash"),
              std::string::npos);
    const std::string hash = "sha256$" + std::string(32, 'a') + "$" + std::string(64, 'b');
    EXPECT_EQ(error_of("access:\n  tokens: [{name: a, role: talker, hash: \"" + hash +
                       "\"}, {name: a, role: admin, hash: \"" + hash + "\"}]\n"),
              "test.yaml:2: access.tokens: the name \"a\" is given twice");
    EXPECT_EQ(error_of("access:\n  talk: maybe\n"),
              "test.yaml:2: access.talk: must be one of open, token (got \"maybe\")");
}

TEST(Config, TalkAndDuckingKeys) {
    Config c = load_config_text(R"(
talk: { jitter_target_ms: 60, jitter_max_ms: 300, max_talkers: 2, gain_db: -6,
        silence_threshold_db: -45, floor_silence_s: 0, mute_floor_holder: true }
ducking:
  room: { enabled: true, threshold_db: -30, gain_db: -20, attack_ms: 5, release_ms: 800 }
)",
                                "test.yaml")
                   .config;
    EXPECT_EQ(c.talk.jitter_target_ms, 60);
    EXPECT_EQ(c.talk.jitter_max_ms, 300);
    EXPECT_EQ(c.talk.max_talkers, 2);
    EXPECT_EQ(c.talk.gain_db, -6.0);
    EXPECT_EQ(c.talk.silence_threshold_db, -45.0);
    EXPECT_EQ(c.talk.floor_silence_s, 0);
    EXPECT_TRUE(c.talk.mute_floor_holder);
    EXPECT_TRUE(c.ducking.room.enabled);
    EXPECT_EQ(c.ducking.room.threshold_db, -30.0);
    EXPECT_EQ(c.ducking.room.gain_db, -20.0);
    EXPECT_EQ(c.ducking.room.attack_ms, 5);
    EXPECT_EQ(c.ducking.room.release_ms, 800);
}

TEST(Config, JitterMaximumBelowTargetIsRefused) {
    EXPECT_EQ(error_of("talk:\n  jitter_target_ms: 100\n  jitter_max_ms: 50\n"),
              "test.yaml: talk.jitter_max_ms: must be at least talk.jitter_target_ms (100) "
              "(got \"50\")");
}

TEST(Config, DuplicateKeyIsAnError) {
    EXPECT_EQ(error_of("server:\n  port: 1\n  port: 2\n"),
              "test.yaml:3: server.port: given more than once");
}

TEST(Config, SyntaxErrorNamesTheLine) {
    std::string error = error_of("server:\n  port: 1\n bad indent: [\n");
    EXPECT_EQ(error.rfind("test.yaml:", 0), 0U) << error;
    EXPECT_NE(error.find("YAML syntax"), std::string::npos) << error;
}

TEST(Config, UnknownKeysWarnWithTheirPath) {
    LoadedConfig loaded =
        load_config_text("server:\n  prot: 1\naudio:\n  capture:\n    dev: x\n", "test.yaml");
    ASSERT_EQ(loaded.warnings.size(), 2U);
    EXPECT_EQ(loaded.warnings[0], "test.yaml:2: server.prot: unknown key, ignored");
    EXPECT_EQ(loaded.warnings[1], "test.yaml:5: audio.capture.dev: unknown key, ignored");
    EXPECT_EQ(loaded.config.server.port, 5000);
}

TEST(Config, MissingFileNamesIt) {
    try {
        load_config_file("/nonexistent/clubvoice.yaml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "/nonexistent/clubvoice.yaml: cannot read: No such file or directory");
    }
}

TEST(Config, ShowRoundTripsThroughParse) {
    Config config =
        load_config_text(
            "audio: {mode: listen}\nlog: {level: warning}\nserver: {cors_origins: [a, \"*\"]}\n"
            "access: {tokens: [{name: d, role: admin, hash: \"sha256$" +
                std::string(32, '0') + "$" + std::string(64, '1') + "\"}]}\n",
            "t")
            .config;
    for (const auto& key : config_keys()) {
        Config copy = default_config();
        EXPECT_EQ(key.parse(copy, YAML::Load(key.show(config))), "") << key.path;
        EXPECT_EQ(key.show(copy), key.show(config)) << key.path;
    }
}

TEST(Config, MessagesStayOneLineWhateverTheFileHolds) {
    // A quoted key or value may hold a line break: the message shows it escaped.
    try {
        load_config_text("audio:\n  mode: \"lo\\nud\"\n", "x.yaml");
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("lo\\nud"), std::string::npos) << e.what();
    }
    LoadedConfig loaded = load_config_text("\"a\\nb\": 1\n", "x.yaml");
    ASSERT_EQ(loaded.warnings.size(), 1U);
    EXPECT_EQ(loaded.warnings[0].find('\n'), std::string::npos) << loaded.warnings[0];
}

TEST(Config, RestartOnlyKeysAreTheDaemonsShape) {
    // Daemon::reload keeps each restart-only key's running value. They are
    // the keys the running daemon is built from: its listening socket and
    // its place in a cluster; every other key applies on a reload.
    for (const auto& key : config_keys()) {
        if (key.needs_restart) {
            EXPECT_TRUE(key.path.starts_with("server.") || key.path.starts_with("cluster."))
                << key.path;
        }
    }
}

// The README's configuration table names every key.
TEST(Config, ReadmeListsEveryKey) {
    std::ifstream in(std::string(CLUBVOICE_SOURCE_ROOT) + "/README.md");
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& key : config_keys()) {
        EXPECT_NE(text.str().find("| `" + std::string(key.path) + "` |"), std::string::npos)
            << key.path << " is missing from the README's configuration table";
    }
}

// The shipped file sets every key, each with a comment on or just above its line.
TEST(Config, ShippedFileDocumentsEveryKey) {
    const std::string path = std::string(CLUBVOICE_SOURCE_ROOT) + "/etc/clubvoice.yaml";
    LoadedConfig loaded = load_config_file(path);
    EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front();

    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    YAML::Node root = YAML::LoadFile(path);
    for (const auto& key : config_keys()) {
        YAML::Node node = YAML::Clone(root);
        std::string path_left(key.path);
        while (true) {
            auto dot = path_left.find('.');
            node = node[path_left.substr(0, dot)];
            ASSERT_TRUE(node.IsDefined()) << key.path << " is not in etc/clubvoice.yaml";
            if (dot == std::string::npos) break;
            path_left = path_left.substr(dot + 1);
        }
        auto line = static_cast<std::size_t>(node.Mark().line);
        bool commented = lines[line].find('#') != std::string::npos ||
                         (line > 0 && lines[line - 1].find('#') != std::string::npos);
        EXPECT_TRUE(commented) << key.path << " has no comment in etc/clubvoice.yaml";
    }
}

}  // namespace
}  // namespace clubvoice
