#include "record_writer.hpp"

#include "recording_names.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

namespace clubvoice {
namespace {

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

// mkdir -p with mode 0750 for what it creates; "" or what failed.
std::string make_directories(const std::string& dir) {
    std::size_t at = 0;
    while (at != std::string::npos) {
        at = dir.find('/', at + 1);
        const std::string part = dir.substr(0, at);
        if (part.empty()) continue;
        if (::mkdir(part.c_str(), 0750) != 0 && errno != EEXIST) {
            return fmt::format("mkdir {}: {}", part, errno_text(errno));
        }
    }
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0) return fmt::format("stat {}: {}", dir, errno_text(errno));
    if (!S_ISDIR(info.st_mode)) return fmt::format("{}: not a directory", dir);
    return {};
}

}  // namespace

RecordWriter::RecordWriter(std::size_t max_queued_bytes)
    : max_queued_bytes_(max_queued_bytes), thread_([this] { run(); }) {}

RecordWriter::~RecordWriter() {
    push({Kind::quit, 0, {}, {}, 0, {}});
    thread_.join();
}

void RecordWriter::open(std::uint64_t id, std::string dir, std::string name, int keep_days) {
    push({Kind::open, id, std::move(dir), std::move(name), keep_days, {}});
}

bool RecordWriter::write(std::uint64_t id, std::string pages) {
    {
        std::lock_guard lock(mutex_);
        if (queued_bytes_ + pages.size() > max_queued_bytes_) return false;
        queued_bytes_ += pages.size();
        queue_.push_back({Kind::write, id, {}, {}, 0, std::move(pages)});
    }
    wake_.notify_one();
    return true;
}

void RecordWriter::close(std::uint64_t id) {
    push({Kind::close, id, {}, {}, 0, {}});
}

std::string RecordWriter::last_error() const {
    std::lock_guard lock(error_mutex_);
    return last_error_;
}

void RecordWriter::push(Command command) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(command));
    }
    wake_.notify_one();
}

void RecordWriter::run() {
    for (;;) {
        Command command;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return !queue_.empty(); });
            command = std::move(queue_.front());
            queue_.pop_front();
            queued_bytes_ -= command.pages.size();
        }
        switch (command.kind) {
            case Kind::open:
                do_open(command);
                break;
            case Kind::write:
                do_write(command);
                break;
            case Kind::close:
                if (command.id == file_id_) do_close();
                break;
            case Kind::quit:
                do_close();
                return;
        }
    }
}

void RecordWriter::do_open(const Command& command) {
    do_close();
    file_id_ = command.id;
    path_ = command.dir + "/" + command.name;
    if (std::string problem = make_directories(command.dir); !problem.empty()) {
        fail(std::move(problem));
        return;
    }
    prune(command.dir, command.keep_days);
    // O_APPEND, not O_EXCL: a name taken again (a restart within the same
    // second) gets a second Ogg stream chained after the first, still valid.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) fail(fmt::format("open {}: {}", path_, errno_text(errno)));
}

void RecordWriter::do_write(const Command& command) {
    if (fd_ < 0 || command.id != file_id_) return;  // a failed file: dropped until the next one
    std::size_t done = 0;
    while (done < command.pages.size()) {
        const ssize_t n = ::write(fd_, command.pages.data() + done, command.pages.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fail(fmt::format("write {}: {}", path_, errno_text(n < 0 ? errno : ENOSPC)));
            ::close(fd_);
            fd_ = -1;
            return;
        }
        done += static_cast<std::size_t>(n);
        bytes_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    }
    good_file_.store(file_id_, std::memory_order_release);
}

void RecordWriter::do_close() {
    if (fd_ < 0) return;
    const bool synced = ::fdatasync(fd_) == 0 || errno == EINVAL;  // EINVAL: /dev/full and kin
    const int sync_error = errno;
    if (::close(fd_) != 0) {
        fail(fmt::format("close {}: {}", path_, errno_text(errno)));
    } else if (!synced) {
        fail(fmt::format("fdatasync {}: {}", path_, errno_text(sync_error)));
    }
    fd_ = -1;
}

void RecordWriter::prune(const std::string& dir, int keep_days) {
    if (keep_days <= 0) return;
    std::error_code error;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        // Regular files only: never a symlink or a directory that looks like one.
        if (entry.symlink_status(error).type() == std::filesystem::file_type::regular) {
            names.push_back(entry.path().filename().string());
        }
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    for (const std::string& name : expired_recordings(names, now, keep_days)) {
        if (::unlink((std::filesystem::path(dir) / name).c_str()) == 0) {
            deleted_.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

void RecordWriter::fail(std::string message) {
    {
        std::lock_guard lock(error_mutex_);
        last_error_ = std::move(message);
    }
    failures_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace clubvoice
