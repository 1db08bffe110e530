// One source connection to an Icecast mount through libshout (Debian's
// libshout3), in libshout's non-blocking mode so that the thread using it can
// always be asked to stop: opening and sending return at once, and what the
// socket could not take waits in libshout's own queue (queued() says how much,
// so the caller can tell a server that stopped reading). RAII over shout_t:
// the connection closes and the handle is freed with the object.
// Thread: one owner (IcecastSender's thread).
#pragma once

#include <shout/shout.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace clubvoice {

struct IcecastTarget {
    std::string host;
    int port = 8000;
    std::string mount;  // "/room.opus"
    std::string user = "source";
    std::string password;

    bool operator==(const IcecastTarget&) const = default;
};

class ShoutConnection {
  public:
    // Sets up the handle (no I/O yet). Throws std::runtime_error naming the
    // setting libshout refused.
    explicit ShoutConnection(const IcecastTarget& target);
    ShoutConnection(const ShoutConnection&) = delete;
    ShoutConnection& operator=(const ShoutConnection&) = delete;
    ~ShoutConnection() = default;

    enum class Progress { pending, done, failed };
    // Starts the connection and the source login, then moves them on; call
    // until it is no longer pending.
    Progress open();
    // Hands whole Ogg pages to libshout, which sends what the socket takes now
    // and queues the rest. False when the connection has failed.
    bool send(std::string_view pages);
    // Sends what libshout still queues. False when the connection has failed.
    bool flush();
    // Bytes libshout queues because the server has not read them yet.
    std::size_t queued() const;
    // libshout's account of the last failure ("Login failed", "Socket error").
    std::string error() const;

  private:
    struct Free {
        void operator()(shout_t* shout) const;
    };
    std::unique_ptr<shout_t, Free> shout_;
    bool opening_ = false;
};

}  // namespace clubvoice
