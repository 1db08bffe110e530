#include "config.hpp"
#include "config_keys.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace clubvoice {
namespace {

std::string where(const std::string& origin, const YAML::Mark& mark) {
    if (mark.is_null() || mark.line < 0) return origin;
    return fmt::format("{}:{}", origin, mark.line + 1);  // yaml-cpp counts lines from 0
}

class Walker {
  public:
    Walker(const std::string& origin, LoadedConfig& out) : origin_(origin), out_(out) {}

    void walk_map(const YAML::Node& map, const std::string& prefix) {
        for (const auto& entry : map) {
            const YAML::Node& key_node = entry.first;
            const YAML::Node& value = entry.second;
            if (!key_node.IsScalar()) {
                fail(key_node.Mark(), prefix.empty() ? "(top level)" : prefix,
                     "keys must be plain names");
            }
            std::string path =
                prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
            if (!seen_.insert(path).second) fail(key_node.Mark(), path, "given more than once");

            if (const ConfigKey* key = find_config_key(path)) {
                if (std::string problem = key->parse(out_.config, value); !problem.empty()) {
                    fail(value.IsNull() ? key_node.Mark() : value.Mark(), path, problem);
                }
            } else if (is_config_group(path)) {
                if (value.IsMap()) {
                    walk_map(value, path);
                } else if (!value.IsNull()) {
                    fail(value.Mark(), path, "must be a mapping of keys");
                }
            } else {
                out_.warnings.push_back(one_line(fmt::format(
                    "{}: {}: unknown key, ignored", where(origin_, key_node.Mark()), path)));
            }
        }
    }

    [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path,
                           const std::string& problem) {
        throw ConfigError(fmt::format("{}: {}: {}", where(origin_, mark), path, problem));
    }

  private:
    const std::string& origin_;
    LoadedConfig& out_;
    std::set<std::string> seen_;
};

}  // namespace

LoadedConfig load_config_text(const std::string& text, const std::string& origin) {
    LoadedConfig out{default_config(), {}};
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(fmt::format("{}: YAML syntax: {}", where(origin, e.mark), e.msg));
    }
    Walker walker(origin, out);
    if (root.IsMap()) {
        walker.walk_map(root, "");
    } else if (!root.IsNull()) {
        walker.fail(root.Mark(), "(top level)", "must be a mapping of keys");
    }
    // Rules between keys, checked once every key has its value.
    const auto& server = out.config.server;
    if (server.tls_cert_file.empty() != server.tls_key_file.empty()) {
        throw ConfigError(fmt::format(
            "{}: {}: must be set too when {} is", origin,
            server.tls_cert_file.empty() ? "server.tls_cert_file" : "server.tls_key_file",
            server.tls_cert_file.empty() ? "server.tls_key_file" : "server.tls_cert_file"));
    }
    if (out.config.talk.jitter_max_ms < out.config.talk.jitter_target_ms) {
        throw ConfigError(fmt::format(
            "{}: talk.jitter_max_ms: must be at least talk.jitter_target_ms ({}) (got \"{}\")",
            origin, out.config.talk.jitter_target_ms, out.config.talk.jitter_max_ms));
    }
    return out;
}

LoadedConfig load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    return load_config_text(text.str(), path);
}

}  // namespace clubvoice
