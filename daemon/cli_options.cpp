#include "cli_options.hpp"

#include "version.hpp"

#include <fmt/format.h>

#include <getopt.h>

#include <array>

namespace clubvoice {

CliOptions parse_cli(int argc, char** argv) {
    CliOptions options;
    options.config_path = std::string(kDefaultConfigPath);
    enum { kCheckConfig = 1000, kVersion, kListMetrics };
    const std::array<option, 7> long_options{{
        {"config", required_argument, nullptr, 'c'},
        {"verbose", no_argument, nullptr, 'v'},
        {"check-config", no_argument, nullptr, kCheckConfig},
        {"version", no_argument, nullptr, kVersion},
        {"list-metrics", no_argument, nullptr, kListMetrics},
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
            case ':':
                throw UsageError(fmt::format("option {} needs an argument", argv[optind - 1]));
            default:
                throw UsageError(fmt::format("unknown option {}", argv[optind - 1]));
        }
    }
    if (optind < argc) throw UsageError(fmt::format("unexpected argument {}", argv[optind]));
    return options;
}

std::string usage_text() {
    return fmt::format(
        "usage: clubvoiced [-c FILE] [-v|-vv] [--check-config] [--list-metrics] [--version] "
        "[--help]\n"
        "\n"
        "Puts a room's sound device on the web: browsers listen live and talk back.\n"
        "\n"
        "  -c, --config FILE  configuration file (default {})\n"
        "  -v, --verbose      log more: -v info, -vv debug (adds to log.level)\n"
        "      --check-config validate the configuration file and exit\n"
        "      --list-metrics print every figure of /metrics and /status (name, type,\n"
        "                     unit, /status path, help; tab-separated) and exit\n"
        "      --version      print the version and exit\n"
        "  -h, --help         print this help and exit\n"
        "\n"
        "Signals: SIGHUP reloads the configuration, SIGTERM and SIGINT stop.\n",
        kDefaultConfigPath);
}

}  // namespace clubvoice
