// The command line: clubvoiced [-c FILE] [-v|-vv] [--check-config] [--list-metrics]
// [--version] [--help]
#pragma once

#include <stdexcept>
#include <string>

namespace clubvoice {

struct CliOptions {
    std::string config_path;
    int verbosity = 0;  // each -v raises the log level one step above the config's
    bool check_config = false;
    bool version = false;
    bool list_metrics = false;
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
