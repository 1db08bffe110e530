#include "config_keys.hpp"

#include "version.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <utility>
#include <vector>

namespace clubvoice {
namespace {

template <typename T>
using Field = T& (*)(Config&);

// One accessor serves both reading and writing a key; reading never modifies.
template <typename T>
const T& read(Field<T> field, const Config& c) {
    return field(const_cast<Config&>(c));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

std::string scalar_problem(const YAML::Node& node, std::string_view what) {
    if (node.IsNull()) return fmt::format("needs a value ({})", what);
    if (!node.IsScalar()) return fmt::format("must be {}", what);
    return {};
}

ConfigKey string_key(std::string_view path, Field<std::string> field, std::string_view help) {
    return {path, help, false, [field](Config& c, const YAML::Node& n) -> std::string {
                if (auto p = scalar_problem(n, "a string"); !p.empty()) return p;
                if (n.Scalar().empty()) return "must not be empty";
                field(c) = n.Scalar();
                return {};
            },
            [field](const Config& c) { return read(field, c); }};
}

ConfigKey int_key(std::string_view path, Field<int> field, int lo, int hi, std::string_view help) {
    return {path, help, false, [field, lo, hi](Config& c, const YAML::Node& n) -> std::string {
                auto what = fmt::format("an integer from {} to {}", lo, hi);
                if (auto p = scalar_problem(n, what); !p.empty()) return p;
                const std::string& s = n.Scalar();
                long value = 0;
                auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
                if (ec != std::errc{} || end != s.data() + s.size() || value < lo || value > hi) {
                    return fmt::format("must be {} (got \"{}\")", what, s);
                }
                field(c) = static_cast<int>(value);
                return {};
            },
            [field](const Config& c) { return std::to_string(read(field, c)); }};
}

ConfigKey string_list_key(std::string_view path, Field<std::vector<std::string>> field,
                          std::string_view help) {
    return {path, help, false,
            [field](Config& c, const YAML::Node& n) -> std::string {
                if (n.IsNull()) {
                    field(c).clear();
                    return {};
                }
                if (!n.IsSequence()) return "must be a list of strings, e.g. [a, b]";
                std::vector<std::string> values;
                for (const auto& item : n) {
                    if (!item.IsScalar() || item.Scalar().empty()) {
                        return "must be a list of non-empty strings";
                    }
                    values.push_back(item.Scalar());
                }
                field(c) = std::move(values);
                return {};
            },
            [field](const Config& c) {
                YAML::Emitter out;  // quotes what needs quoting ("*", ": ", ...)
                out << YAML::Flow << read(field, c);
                return std::string(out.c_str());
            }};
}

template <typename E, std::size_t N>
ConfigKey choice_key(std::string_view path, Field<E> field,
                     const std::array<std::pair<std::string_view, E>, N>& choices,
                     std::string_view help) {
    return {path, help, false, [field, choices](Config& c, const YAML::Node& n) -> std::string {
                std::vector<std::string_view> names;
                for (const auto& [name, value] : choices) names.push_back(name);
                auto what = fmt::format("one of {}", fmt::join(names, ", "));
                if (auto p = scalar_problem(n, what); !p.empty()) return p;
                for (const auto& [name, value] : choices) {
                    if (n.Scalar() == name) {
                        field(c) = value;
                        return {};
                    }
                }
                return fmt::format("must be {} (got \"{}\")", what, n.Scalar());
            },
            [field, choices](const Config& c) -> std::string {
                for (const auto& [name, value] : choices) {
                    if (read(field, c) == value) return std::string(name);
                }
                return "?";
            }};
}

ConfigKey restart_only(ConfigKey key) {
    key.needs_restart = true;
    return key;
}

constexpr std::array<std::pair<std::string_view, AudioMode>, 3> kModes{{
    {"listen", AudioMode::listen},
    {"half", AudioMode::half},
    {"full", AudioMode::full},
}};

constexpr std::array<std::pair<std::string_view, log::Level>, 5> kLevels{{
    {"error", log::Level::error},
    {"warning", log::Level::warning},
    {"notice", log::Level::notice},
    {"info", log::Level::info},
    {"debug", log::Level::debug},
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
        "server.ping_interval_ms", [](Config& c) -> int& { return c.server.ping_interval_ms; },
        50, 600000, "Engine.IO heartbeat: how often the server pings each client"));
    keys.push_back(int_key(
        "server.ping_timeout_ms", [](Config& c) -> int& { return c.server.ping_timeout_ms; },
        50, 600000, "Engine.IO heartbeat: how long a client may take to answer a ping"));
    keys.push_back(int_key(
        "server.connect_timeout_ms",
        [](Config& c) -> int& { return c.server.connect_timeout_ms; }, 50, 600000,
        "Socket.IO: how long a new session may take to join a namespace"));
    keys.push_back(int_key(
        "server.max_payload_bytes", [](Config& c) -> int& { return c.server.max_payload_bytes; },
        1024, 100000000, "largest Engine.IO packet or polling request body a client may send"));
    keys.push_back(string_list_key(
        "server.cors_origins",
        [](Config& c) -> std::vector<std::string>& { return c.server.cors_origins; },
        "origins allowed to use the server from other sites; [\"*\"] allows every origin"));
    keys.push_back(choice_key<AudioMode>(
        "audio.mode", [](Config& c) -> AudioMode& { return c.audio.mode; }, kModes,
        "listen: nobody talks; half: one talker holds the floor; full: every talker is mixed"));
    keys.push_back(string_key(
        "audio.capture.device",
        [](Config& c) -> std::string& { return c.audio.capture.device; },
        "ALSA PCM the room is captured from"));
    keys.push_back(string_key(
        "audio.playback.device",
        [](Config& c) -> std::string& { return c.audio.playback.device; },
        "ALSA PCM the talkers are played to"));
    keys.push_back(choice_key<log::Level>(
        "log.level", [](Config& c) -> log::Level& { return c.log.level; }, kLevels,
        "least important messages logged (-v raises it to info, -vv to debug)"));
    keys.push_back(string_key(
        "web.root", [](Config& c) -> std::string& { return c.web.root; },
        "directory the web client is served from"));
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

Config default_config() {
    Config config;
    config.web.root = std::string(kDefaultWebRoot);
    return config;
}

}  // namespace clubvoice
