// clubvoiced: the entry point. Parses the command line, loads the
// configuration and runs the daemon; start-up errors are one line and exit 1.
#include "cli_options.hpp"
#include "config.hpp"
#include "daemon.hpp"
#include "log.hpp"
#include "tls_certificate.hpp"
#include "token_commands.hpp"
#include "version.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    using namespace clubvoice;
    log::init_from_environment();

    CliOptions options;
    try {
        options = parse_cli(argc, argv);
    } catch (const UsageError& e) {
        fmt::print(stderr, "clubvoiced: {}\n{}", e.what(), usage_text());
        return 2;
    }
    if (options.help) {
        fmt::print("{}", usage_text());
        return 0;
    }
    if (options.list_metrics) {
        MetricList list;
        describe_metrics(list);
        for (const MetricInfo& m : list.infos()) {
            fmt::print("{}\t{}\t{}\t{}\t{}\n", m.name, to_string(m.type), m.unit, m.status_path,
                       m.help);
        }
        return 0;
    }
    try {
        if (options.hash_token) return run_hash_token(std::cin, std::cout, std::cerr);
        if (options.new_token_role) {
            return run_new_token(*options.new_token_role, options.new_token_name, std::cout);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "clubvoiced: {}\n", e.what());
        return 1;
    }
    if (options.version) {
        fmt::print("clubvoiced {}\n", kVersion);
        return 0;
    }

    try {
        LoadedConfig loaded = load_config_file(options.config_path);
        for (const auto& warning : loaded.warnings) log::warning("{}", warning);
        if (options.check_config) {
            // systemctl reload runs this first: a renewed certificate that
            // will not load fails the reload where the operator sees it.
            const auto& server = loaded.config.server;
            if (!server.tls_cert_file.empty()) {
                (void)TlsCertificate::load(server.tls_cert_file, server.tls_key_file);
            }
            fmt::print("{}: ok\n", options.config_path);
            return 0;
        }
        Daemon daemon(options.config_path, std::move(loaded.config), options.verbosity);
        daemon.run();
        return 0;
    } catch (const ConfigError& e) {
        log::error("{}", e.what());
    } catch (const std::exception& e) {
        log::error("{}: {}", options.config_path, e.what());
    }
    return 1;
}
