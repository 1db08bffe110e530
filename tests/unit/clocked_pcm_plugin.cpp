// A test-only ALSA PCM plugin (ioplug) that behaves like a sound card: its
// position advances with CLOCK_MONOTONIC, capture yields a 440 Hz tone at 0.3
// of full scale, playback discards what it gets. Files next to `control`
// script faults: "<control>.xrun" makes the next position query report an
// xrun (the file is removed); while "<control>.gone" exists the device fails
// like an unplugged one (position, prepare and open report ENODEV).
//
//   pcm_type.clubvoice_clocked { lib "/path/libasound_module_pcm_clubvoice_clocked.so" }
//   pcm.card { type clubvoice_clocked control "/tmp/x/card" }
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <numbers>
#include <string>

namespace {

struct Clocked {
    snd_pcm_ioplug_t io{};
    std::string control;
    int poll_fd = -1;
    std::int64_t start_ns = 0;
    double phase = 0.0;  // of the capture tone, in cycles
};

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool exists(const std::string& path) {
    return access(path.c_str(), F_OK) == 0;
}

Clocked& self(snd_pcm_ioplug_t* io) {
    return *static_cast<Clocked*>(io->private_data);
}

int start(snd_pcm_ioplug_t* io) {
    self(io).start_ns = now_ns();
    return 0;
}

int stop(snd_pcm_ioplug_t*) {
    return 0;
}

snd_pcm_sframes_t pointer(snd_pcm_ioplug_t* io) {
    Clocked& c = self(io);
    if (exists(c.control + ".gone")) return -ENODEV;
    if (exists(c.control + ".xrun")) {
        unlink((c.control + ".xrun").c_str());
        return -EPIPE;
    }
    if (c.start_ns == 0) return 0;  // not started: the position stays at the start
    const auto elapsed = static_cast<std::uint64_t>(now_ns() - c.start_ns);
    const std::uint64_t frames =
        elapsed / 1'000'000'000 * io->rate + elapsed % 1'000'000'000 * io->rate / 1'000'000'000;
    return static_cast<snd_pcm_sframes_t>(frames % io->buffer_size);
}

snd_pcm_sframes_t transfer(snd_pcm_ioplug_t* io, const snd_pcm_channel_area_t* areas,
                           snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
    if (io->stream != SND_PCM_STREAM_CAPTURE) return static_cast<snd_pcm_sframes_t>(size);
    Clocked& c = self(io);
    for (snd_pcm_uframes_t i = 0; i < size; ++i) {
        const auto v = static_cast<std::int16_t>(
            std::lrint(0.3 * 32767.0 * std::sin(2.0 * std::numbers::pi * c.phase)));
        c.phase = std::fmod(c.phase + 440.0 / io->rate, 1.0);
        for (unsigned ch = 0; ch < io->channels; ++ch) {
            const snd_pcm_channel_area_t& a = areas[ch];
            auto* base = static_cast<unsigned char*>(a.addr);
            std::memcpy(base + (a.first + (offset + i) * a.step) / 8, &v, sizeof v);
        }
    }
    return static_cast<snd_pcm_sframes_t>(size);
}

int prepare(snd_pcm_ioplug_t* io) {
    return exists(self(io).control + ".gone") ? -ENODEV : 0;
}

int close_pcm(snd_pcm_ioplug_t* io) {
    std::unique_ptr<Clocked> owned(&self(io));
    close(owned->poll_fd);
    return 0;
}

const snd_pcm_ioplug_callback_t kCallbacks = [] {
    snd_pcm_ioplug_callback_t cb{};
    cb.start = start;
    cb.stop = stop;
    cb.pointer = pointer;
    cb.transfer = transfer;
    cb.prepare = prepare;
    cb.close = close_pcm;
    return cb;
}();

int set_constraints(snd_pcm_ioplug_t* io) {
    static const unsigned int access[] = {SND_PCM_ACCESS_RW_INTERLEAVED};
    static const unsigned int format[] = {SND_PCM_FORMAT_S16};
    int err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 1, access);
    if (err >= 0) err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, format);
    if (err >= 0) err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 2);
    if (err >= 0) err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE, 8000, 192000);
    if (err >= 0) {
        err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 64, 1 << 20);
    }
    if (err >= 0) {
        err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 128, 1 << 22);
    }
    if (err >= 0) err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 2, 1024);
    return err;
}

}  // namespace

extern "C" {

SND_PCM_PLUGIN_DEFINE_FUNC(clubvoice_clocked) {
    static_cast<void>(root);
    const char* control = "";
    snd_config_iterator_t i = nullptr;
    snd_config_iterator_t next = nullptr;
    snd_config_for_each(i, next, conf) {
        snd_config_t* n = snd_config_iterator_entry(i);
        const char* id = nullptr;
        if (snd_config_get_id(n, &id) < 0) continue;
        if (std::strcmp(id, "type") == 0 || std::strcmp(id, "comment") == 0) continue;
        if (std::strcmp(id, "control") == 0 && snd_config_get_string(n, &control) >= 0) continue;
        return -EINVAL;
    }
    auto c = std::make_unique<Clocked>();
    c->control = control;
    if (exists(c->control + ".gone")) return -ENODEV;
    c->poll_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->poll_fd < 0) return -errno;
    c->io.version = SND_PCM_IOPLUG_VERSION;
    c->io.name = "clubvoice test clock";
    c->io.poll_fd = c->poll_fd;
    c->io.poll_events = POLLIN;
    c->io.callback = &kCallbacks;
    c->io.private_data = c.get();
    int err = snd_pcm_ioplug_create(&c->io, name, stream, mode);
    if (err < 0) {
        close(c->poll_fd);
        return err;
    }
    Clocked* raw = c.release();  // owned by the PCM from here; close_pcm frees it
    err = set_constraints(&raw->io);
    if (err < 0) {
        snd_pcm_ioplug_delete(&raw->io);
        return err;
    }
    *pcmp = raw->io.pcm;
    return 0;
}
SND_PCM_PLUGIN_SYMBOL(clubvoice_clocked)

}  // extern "C"
