// The table of configuration keys: path, help text, and how to read a value.
// Thread: any (immutable after first use).
#pragma once

#include "config.hpp"

#include <yaml-cpp/node/node.h>

#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace clubvoice {

struct ConfigKey {
    std::string_view path;  // dotted, e.g. "server.port"
    std::string_view help;  // one line for operators
    bool needs_restart = false;
    // Stores the node's value into the config, or returns what is wrong with it
    // (empty string when the value is good).
    std::function<std::string(Config&, const YAML::Node&)> parse;
    // The key's value in a config, as it would be written in the file.
    std::function<std::string(const Config&)> show;
    // Sets the key in `to` to its value in `from`.
    std::function<void(const Config& from, Config& to)> copy;
};

std::span<const ConfigKey> config_keys();

// The key with this dotted path, or nullptr.
const ConfigKey* find_config_key(std::string_view path);
// True when some key lives below this dotted path ("audio" for "audio.mode").
bool is_config_group(std::string_view path);

}  // namespace clubvoice
