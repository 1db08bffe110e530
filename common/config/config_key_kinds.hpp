// The kinds of value a configuration key can hold (string, path, number,
// choice, list, ...): each builds the key's parse, show and copy functions
// from an accessor of its field. config_keys.cpp lists the keys.
// Thread: any (pure).
#pragma once

#include "config_keys.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clubvoice::config_kinds {

template <typename T>
using Field = T& (*)(Config&);

// One accessor serves both reading and writing a key; reading never modifies.
template <typename T>
const T& read(Field<T> field, const Config& c) {
    return field(const_cast<Config&>(c));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

// "" when the node is a scalar; otherwise what it must be.
inline std::string scalar_problem(const YAML::Node& node, std::string_view what) {
    if (node.IsNull()) return fmt::format("needs a value ({})", what);
    if (!node.IsScalar()) return fmt::format("must be {}", what);
    return {};
}

// Copies the key's value from one config to another (a reload keeps the
// running value of a restart-only key).
template <typename T>
std::function<void(const Config&, Config&)> copier(Field<T> field) {
    return [field](const Config& from, Config& to) { field(to) = read(field, from); };
}

// A key whose value is read by `parse` (it fills the value, or returns what
// is wrong) and written by `show`. A value that fails leaves the config as
// it was; with `empty_when_null`, a key given no value takes T{} (an empty
// list, an empty path).
template <typename T>
ConfigKey typed_key(std::string_view path, Field<T> field, std::string_view help,
                    std::function<std::string(const YAML::Node&, T&)> parse,
                    std::function<std::string(const T&)> show, bool empty_when_null = false) {
    return {path,
            help,
            false,
            [field, parse = std::move(parse), empty_when_null](Config& c,
                                                               const YAML::Node& n) -> std::string {
                T value{};
                if (!(empty_when_null && n.IsNull())) {
                    if (std::string problem = parse(n, value); !problem.empty()) return problem;
                }
                field(c) = std::move(value);
                return {};
            },
            [field, show = std::move(show)](const Config& c) { return show(read(field, c)); },
            copier(field)};
}

template <typename E, std::size_t N>
ConfigKey choice_key(std::string_view path, Field<E> field,
                     const std::array<std::pair<std::string_view, E>, N>& choices,
                     std::string_view help) {
    return typed_key<E>(
        path, field, help,
        [choices](const YAML::Node& n, E& out) -> std::string {
            std::vector<std::string_view> names;
            names.reserve(choices.size());
            for (const auto& [name, value] : choices) names.push_back(name);
            auto what = fmt::format("one of {}", fmt::join(names, ", "));
            if (auto p = scalar_problem(n, what); !p.empty()) return p;
            for (const auto& [name, value] : choices) {
                if (n.Scalar() == name) {
                    out = value;
                    return {};
                }
            }
            return fmt::format("must be {} (got \"{}\")", what, n.Scalar());
        },
        [choices](const E& current) -> std::string {
            for (const auto& [name, value] : choices) {
                if (current == value) return std::string(name);
            }
            return "?";
        });
}

ConfigKey restart_only(ConfigKey key);
ConfigKey string_key(std::string_view path, Field<std::string> field, std::string_view help);
// A string that may be left empty (the feature it names is then off).
ConfigKey optional_string_key(std::string_view path, Field<std::string> field,
                              std::string_view help);
// A file path that may be left empty (the feature it enables is then off).
ConfigKey optional_path_key(std::string_view path, Field<std::string> field, std::string_view help);
// An absolute path that must be given (a directory the daemon writes to).
ConfigKey absolute_path_key(std::string_view path, Field<std::string> field, std::string_view help);
ConfigKey int_key(std::string_view path, Field<int> field, int lo, int hi, std::string_view help);
ConfigKey double_key(std::string_view path, Field<double> field, double lo, double hi,
                     std::string_view help);
ConfigKey bool_key(std::string_view path, Field<bool> field, std::string_view help);
// `check` returns what is wrong with one entry ("" when it is good).
ConfigKey string_list_key(std::string_view path, Field<std::vector<std::string>> field,
                          std::string_view help,
                          const std::function<std::string(const std::string&)>& check = {});
// A list of {name, role, hash} (access.tokens).
ConfigKey token_list_key(std::string_view path, Field<std::vector<AccessToken>> field,
                         std::string_view help);

}  // namespace clubvoice::config_kinds
