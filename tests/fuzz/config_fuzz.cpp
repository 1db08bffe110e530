// libFuzzer target for the configuration loader on arbitrary text. The one
// error it may report is ConfigError (one line naming file, line and key);
// any other exception would escape as an unexplained failure at startup or
// on a reload, so it is a finding.
#include "config.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

void finding(const char* what) {
    std::fprintf(stderr, "config_fuzz: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const clubvoice::LoadedConfig loaded = clubvoice::load_config_text(text, "fuzz.yaml");
        // What the daemon relies on after a successful load.
        if (loaded.config.talk.jitter_max_ms < loaded.config.talk.jitter_target_ms) {
            finding("jitter_max_ms below jitter_target_ms was accepted");
        }
        if (loaded.config.server.tls_cert_file.empty() !=
            loaded.config.server.tls_key_file.empty()) {
            finding("only one of the TLS files was accepted");
        }
        // The Icecast source reads its URL again, trusting the load's check.
        if (const std::string& url = loaded.config.icecast.url; !url.empty()) {
            const auto parsed =
                clubvoice::parse_server_url(url, clubvoice::Config::Icecast::kSchemes);
            if (!parsed || parsed->path.size() < 2) finding("an unusable icecast.url was accepted");
        }
    } catch (const clubvoice::ConfigError& e) {
        if (std::string_view(e.what()).rfind("fuzz.yaml", 0) != 0) {
            finding("a ConfigError that does not start with the file name");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "config_fuzz: not a ConfigError: %s\n", e.what());
        std::abort();
    } catch (...) {
        finding("a non-std exception escaped");
    }
    return 0;
}
