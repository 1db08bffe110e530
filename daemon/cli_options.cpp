#include "cli_options.hpp"

#include "version.hpp"

#include <fmt/format.h>

#include <getopt.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace clubvoice {
namespace {

// Names that need no quoting in the YAML line --new-token prints.
bool valid_token_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

CliOptions parse_cli(int argc, char** argv) {
    CliOptions options;
    options.config_path = std::string(kDefaultConfigPath);
    enum { kCheckConfig = 1000, kVersion, kListMetrics, kHashToken, kNewToken };
    const std::array<option, 9> long_options{{
        {"config", required_argument, nullptr, 'c'},
        {"verbose", no_argument, nullptr, 'v'},
        {"check-config", no_argument, nullptr, kCheckConfig},
        {"version", no_argument, nullptr, kVersion},
        {"list-metrics", no_argument, nullptr, kListMetrics},
        {"hash-token", no_argument, nullptr, kHashToken},
        {"new-token", required_argument, nullptr, kNewToken},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    }};
    opterr = 0;  // we report errors ourselves, in one line
    optind = 1;
    int c = 0;
    while ((c = getopt_long(argc, argv, ":c:vh", long_options.data(), nullptr)) != -1) {
        switch (c) {
            case 'c':
                options.config_path = optarg;
                break;
            case 'v':
                ++options.verbosity;
                break;
            case 'h':
                options.help = true;
                break;
            case kCheckConfig:
                options.check_config = true;
                break;
            case kVersion:
                options.version = true;
                break;
            case kListMetrics:
                options.list_metrics = true;
                break;
            case kHashToken:
                options.hash_token = true;
                break;
            case kNewToken:
                options.new_token_role = role_named(optarg);
                if (!options.new_token_role) {
                    throw UsageError(fmt::format(
                        "--new-token: the role must be listener, talker or admin (got \"{}\")",
                        optarg));
                }
                break;
            case ':':
                throw UsageError(fmt::format("option {} needs an argument", argv[optind - 1]));
            default:
                throw UsageError(fmt::format("unknown option {}", argv[optind - 1]));
        }
    }
    if (options.new_token_role && optind < argc) {
        options.new_token_name = argv[optind++];
        if (!valid_token_name(options.new_token_name)) {
            throw UsageError(fmt::format(
                "--new-token: the name must be 1 to 64 letters, digits, '-', '_' or '.' (got "
                "\"{}\")",
                options.new_token_name));
        }
    }
    if (optind < argc) throw UsageError(fmt::format("unexpected argument {}", argv[optind]));
    if (options.new_token_role && options.new_token_name.empty()) {
        options.new_token_name = std::string(to_string(*options.new_token_role));
    }
    return options;
}

std::string usage_text() {
    return fmt::format(
        "usage: clubvoiced [-c FILE] [-v|-vv] [--check-config] [--list-metrics]\n"
        "                  [--hash-token] [--new-token ROLE [NAME]] [--version] [--help]\n"
        "\n"
        "Puts a room's sound device on the web: browsers listen live and talk back.\n"
        "\n"
        "  -c, --config FILE  configuration file (default {})\n"
        "  -v, --verbose      log more: -v info, -vv debug (adds to log.level)\n"
        "      --check-config validate the configuration file and exit\n"
        "      --list-metrics print every figure of /metrics and /status (name, type,\n"
        "                     unit, /status path, help; tab-separated) and exit\n"
        "      --hash-token   read a token on stdin, print the hash to store for it\n"
        "      --new-token ROLE [NAME]\n"
        "                     print a fresh token (ROLE: listener, talker or admin) and\n"
        "                     the access.tokens entry holding its hash\n"
        "      --version      print the version and exit\n"
        "  -h, --help         print this help and exit\n"
        "\n"
        "Signals: SIGHUP reloads the configuration, SIGTERM and SIGINT stop.\n",
        kDefaultConfigPath);
}

}  // namespace clubvoice
