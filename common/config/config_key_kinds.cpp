#include "config_key_kinds.hpp"

#include "token_hash.hpp"

#include <charconv>
#include <cmath>
#include <type_traits>

namespace clubvoice::config_kinds {
namespace {

// An integer or a number within [lo, hi].
template <typename T>
ConfigKey number_key(std::string_view path, Field<T> field, T lo, T hi, std::string_view help) {
    constexpr bool kInteger = std::is_integral_v<T>;
    using Parsed = std::conditional_t<kInteger, long, double>;
    return typed_key<T>(
        path, field, help,
        [lo, hi](const YAML::Node& n, T& out) -> std::string {
            auto what =
                fmt::format("{} from {} to {}", kInteger ? "an integer" : "a number", lo, hi);
            if (auto p = scalar_problem(n, what); !p.empty()) return p;
            const std::string& s = n.Scalar();
            Parsed value{};
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
            const bool finite = kInteger || std::isfinite(static_cast<double>(value));
            if (ec != std::errc{} || end != s.data() + s.size() || !finite ||
                value < static_cast<Parsed>(lo) || value > static_cast<Parsed>(hi)) {
                return fmt::format("must be {} (got \"{}\")", what, s);
            }
            out = static_cast<T>(value);
            return {};
        },
        [](const T& value) { return fmt::format("{}", value); });
}

std::string as_is(const std::string& value) {
    return value;
}

// Flow style; the emitter quotes what needs quoting ("*", ": ", ...).
template <typename T>
std::string flow_yaml(const T& value) {
    YAML::Emitter out;
    out << YAML::Flow << value;
    return out.c_str();
}

// What is wrong with one access.tokens entry; "" when it is good.
std::string token_problem(const YAML::Node& item, AccessToken& out) {
    static constexpr std::string_view kShape = "each entry must be {name, role, hash}";
    if (!item.IsMap()) return std::string(kShape);
    for (const auto& entry : item) {
        const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
        if (key != "name" && key != "role" && key != "hash") {
            return fmt::format("{} (unknown key \"{}\")", kShape, key);
        }
    }
    const YAML::Node name = item["name"];
    const YAML::Node role = item["role"];
    const YAML::Node hash = item["hash"];
    if (!name.IsScalar() || name.Scalar().empty() || name.Scalar().size() > 64) {
        return "each entry needs a name of 1 to 64 characters";
    }
    out.name = name.Scalar();
    if (!role.IsScalar() || !role_named(role.Scalar())) {
        return fmt::format("{}: role must be listener, talker or admin", out.name);
    }
    out.role = *role_named(role.Scalar());
    if (!hash.IsScalar()) return fmt::format("{}: needs a hash", out.name);
    if (std::string problem = hash_problem(hash.Scalar()); !problem.empty()) {
        return fmt::format("{}: hash {}", out.name, problem);
    }
    out.hash = hash.Scalar();
    return {};
}

}  // namespace

ConfigKey string_key(std::string_view path, Field<std::string> field, std::string_view help) {
    return typed_key<std::string>(
        path, field, help,
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "a string"); !p.empty()) return p;
            if (n.Scalar().empty()) return "must not be empty";
            out = n.Scalar();
            return {};
        },
        as_is);
}

ConfigKey optional_string_key(std::string_view path, Field<std::string> field,
                              std::string_view help) {
    return typed_key<std::string>(
        path, field, help,
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "a string or \"\""); !p.empty()) return p;
            out = n.Scalar();
            return {};
        },
        as_is, true);
}

ConfigKey optional_path_key(std::string_view path, Field<std::string> field,
                            std::string_view help) {
    return typed_key<std::string>(
        path, field, help,
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "a file path or \"\""); !p.empty()) return p;
            if (!n.Scalar().empty() && n.Scalar().front() != '/') {
                return fmt::format("must be an absolute path (got \"{}\")", n.Scalar());
            }
            out = n.Scalar();
            return {};
        },
        as_is, true);
}

ConfigKey absolute_path_key(std::string_view path, Field<std::string> field,
                            std::string_view help) {
    return typed_key<std::string>(
        path, field, help,
        [](const YAML::Node& n, std::string& out) -> std::string {
            if (auto p = scalar_problem(n, "an absolute path"); !p.empty()) return p;
            if (n.Scalar().empty() || n.Scalar().front() != '/') {
                return fmt::format("must be an absolute path (got \"{}\")", n.Scalar());
            }
            out = n.Scalar();
            return {};
        },
        as_is);
}

ConfigKey int_key(std::string_view path, Field<int> field, int lo, int hi, std::string_view help) {
    return number_key<int>(path, field, lo, hi, help);
}

ConfigKey double_key(std::string_view path, Field<double> field, double lo, double hi,
                     std::string_view help) {
    return number_key<double>(path, field, lo, hi, help);
}

ConfigKey bool_key(std::string_view path, Field<bool> field, std::string_view help) {
    return typed_key<bool>(
        path, field, help,
        [](const YAML::Node& n, bool& out) -> std::string {
            if (auto p = scalar_problem(n, "true or false"); !p.empty()) return p;
            if (n.Scalar() != "true" && n.Scalar() != "false") {
                return fmt::format("must be true or false (got \"{}\")", n.Scalar());
            }
            out = n.Scalar() == "true";
            return {};
        },
        [](const bool& value) { return std::string(value ? "true" : "false"); });
}

ConfigKey string_list_key(std::string_view path, Field<std::vector<std::string>> field,
                          std::string_view help,
                          const std::function<std::string(const std::string&)>& check) {
    return typed_key<std::vector<std::string>>(
        path, field, help,
        [check](const YAML::Node& n, std::vector<std::string>& out) -> std::string {
            if (!n.IsSequence()) return "must be a list of strings, e.g. [a, b]";
            for (const auto& item : n) {
                if (!item.IsScalar() || item.Scalar().empty()) {
                    return "must be a list of non-empty strings";
                }
                if (check) {
                    if (std::string problem = check(item.Scalar()); !problem.empty()) {
                        return problem;
                    }
                }
                out.push_back(item.Scalar());
            }
            return {};
        },
        flow_yaml<std::vector<std::string>>, true);
}

ConfigKey token_list_key(std::string_view path, Field<std::vector<AccessToken>> field,
                         std::string_view help) {
    return typed_key<std::vector<AccessToken>>(
        path, field, help,
        [](const YAML::Node& n, std::vector<AccessToken>& out) -> std::string {
            if (!n.IsSequence()) return "must be a list of {name, role, hash}";
            for (const auto& item : n) {
                AccessToken token;
                if (std::string problem = token_problem(item, token); !problem.empty()) {
                    return problem;
                }
                for (const auto& other : out) {
                    if (other.name == token.name) {
                        return fmt::format("the name \"{}\" is given twice", token.name);
                    }
                }
                out.push_back(std::move(token));
            }
            return {};
        },
        [](const std::vector<AccessToken>& tokens) {
            YAML::Emitter out;
            out << YAML::Flow << YAML::BeginSeq;
            for (const auto& token : tokens) {
                out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << token.name
                    << YAML::Key << "role" << YAML::Value << std::string(to_string(token.role))
                    << YAML::Key << "hash" << YAML::Value << token.hash << YAML::EndMap;
            }
            out << YAML::EndSeq;
            return std::string(out.c_str());
        },
        true);
}

ConfigKey restart_only(ConfigKey key) {
    key.needs_restart = true;
    return key;
}

}  // namespace clubvoice::config_kinds
