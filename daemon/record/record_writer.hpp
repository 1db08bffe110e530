// The recorder's file side: a thread of its own that creates the directory,
// deletes expired recordings, opens, writes and closes the files, so that no
// file system call (a slow disk, a full one, an NFS stall) ever runs on the
// loop. The loop hands it commands through a queue bounded in bytes: a write
// that does not fit is refused at once (the caller counts the pages dropped)
// rather than letting the queue grow. Each write is whole Ogg pages, so a
// file cut short by a crash or a failed write still ends on a page boundary.
//
// Failures are reported through counters the loop polls (failures(),
// last_error()); the thread itself never logs. Thread: the methods are for the
// loop; the file work runs on the writer's own thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace clubvoice {

class RecordWriter {
  public:
    explicit RecordWriter(std::size_t max_queued_bytes);
    // Writes what is queued, closes the file and joins the thread.
    ~RecordWriter();
    RecordWriter(const RecordWriter&) = delete;
    RecordWriter& operator=(const RecordWriter&) = delete;

    // Starts file `id` as dir/name (a later open or close ends the one before),
    // after creating dir (0750) and deleting the recordings in it older than
    // keep_days (0: none).
    void open(std::uint64_t id, std::string dir, std::string name, int keep_days);
    // Appends whole pages to file `id`. False, with nothing queued, when the
    // queue is full.
    bool write(std::uint64_t id, std::string pages);
    // Ends file `id` (its data is synced first).
    void close(std::uint64_t id);

    // Failed opens, writes and closes so far, and the latest one's message
    // ("write /dir/name: No space left on device").
    std::uint64_t failures() const { return failures_.load(std::memory_order_acquire); }
    std::string last_error() const;
    // The newest file a write has succeeded in (0: none yet).
    std::uint64_t good_file() const { return good_file_.load(std::memory_order_acquire); }
    std::uint64_t bytes_written() const { return bytes_.load(std::memory_order_relaxed); }
    std::uint64_t files_deleted() const { return deleted_.load(std::memory_order_relaxed); }

  private:
    enum class Kind { open, write, close, quit };
    struct Command {
        Kind kind;
        std::uint64_t id = 0;
        std::string dir, name;  // open
        int keep_days = 0;      // open
        std::string pages;      // write
    };

    void push(Command command);
    void run();
    void do_open(const Command& command);
    void do_write(const Command& command);
    void do_close();
    void prune(const std::string& dir, int keep_days);
    void fail(std::string message);

    const std::size_t max_queued_bytes_;
    std::mutex mutex_;  // guards queue_, queued_bytes_
    std::condition_variable wake_;
    std::deque<Command> queue_;
    std::size_t queued_bytes_ = 0;

    // The writer thread's own.
    int fd_ = -1;
    std::uint64_t file_id_ = 0;
    std::string path_;

    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> good_file_{0};
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> deleted_{0};
    mutable std::mutex error_mutex_;  // guards last_error_
    std::string last_error_;

    std::thread thread_;  // last: started once everything above exists
};

}  // namespace clubvoice
