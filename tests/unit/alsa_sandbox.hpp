// A private ALSA configuration for one test: a temporary directory holding
// the test's files and an asoundrc, which ALSA_CONFIG_PATH points at instead
// of the system's alsa.conf (so neither /etc/asound.conf nor ~/.asoundrc can
// interfere). The environment is restored afterwards. Built-in plugin types
// (null, file, plug) need no alsa.conf.
#pragma once

#include <alsa/asoundlib.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace clubvoice::test {

class AlsaSandbox {
  public:
    AlsaSandbox() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "clubvoice-alsa-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = pattern;
        if (const char* old = std::getenv("ALSA_CONFIG_PATH")) saved_ = old;
        write_asoundrc("");
        setenv("ALSA_CONFIG_PATH", asoundrc().c_str(), 1);
        snd_config_update_free_global();  // forget any configuration read before
    }
    ~AlsaSandbox() {
        if (saved_) {
            setenv("ALSA_CONFIG_PATH", saved_->c_str(), 1);
        } else {
            unsetenv("ALSA_CONFIG_PATH");
        }
        snd_config_update_free_global();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    AlsaSandbox(const AlsaSandbox&) = delete;
    AlsaSandbox& operator=(const AlsaSandbox&) = delete;

    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::string asoundrc() const { return path("asoundrc"); }
    void write_asoundrc(const std::string& text) const { std::ofstream(asoundrc()) << text; }

    // A capture PCM that reads raw S16 samples from `infile` at the pace it is read.
    static std::string capture_pcm(const std::string& name, const std::string& infile) {
        return "pcm." + name +
               " {\n  type file\n  slave.pcm { type null }\n  file \"/dev/null\"\n" +
               "  infile \"" + infile + "\"\n  format raw\n}\n";
    }
    // A playback PCM that writes what it plays to `outfile` (raw).
    static std::string playback_pcm(const std::string& name, const std::string& outfile) {
        return "pcm." + name + " {\n  type file\n  slave.pcm { type null }\n  file \"" + outfile +
               "\"\n  format raw\n}\n";
    }

  private:
    std::filesystem::path dir_;
    std::optional<std::string> saved_;
};

}  // namespace clubvoice::test
