// The command line: clubvoiced [-c FILE] [-v|-vv] [--check-config] [--list-metrics]
// [--hash-token] [--new-token ROLE [NAME]] [--version] [--help]
#pragma once

#include "role.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace clubvoice {

struct CliOptions {
    std::string config_path;
    int verbosity = 0;  // each -v raises the log level one step above the config's
    bool check_config = false;
    bool version = false;
    bool list_metrics = false;
    bool hash_token = false;             // read a token on stdin, print its hash
    std::optional<Role> new_token_role;  // print a fresh token of this role
    std::string new_token_name;          // its name (default: the role's)
    bool help = false;
};

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws UsageError for an unknown option or a missing argument.
CliOptions parse_cli(int argc, char** argv);
std::string usage_text();

}  // namespace clubvoice
