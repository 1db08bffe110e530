#include "shout_connection.hpp"

#include <fmt/format.h>

#include <mutex>
#include <stdexcept>

namespace clubvoice {
namespace {

void init_libshout_once() {
    // shout_init() sets up libshout's globals; it is never undone (the
    // process may open connections until it ends).
    static std::once_flag once;
    std::call_once(once, [] { shout_init(); });
}

void check(shout_t* shout, int rc, std::string_view what) {
    if (rc != SHOUTERR_SUCCESS) {
        throw std::runtime_error(
            fmt::format("libshout refused the {}: {}", what, shout_get_error(shout)));
    }
}

}  // namespace

void ShoutConnection::Free::operator()(shout_t* shout) const {
    shout_close(shout);  // UNCONNECTED when it never opened: nothing to undo
    shout_free(shout);
}

ShoutConnection::ShoutConnection(const IcecastTarget& target) {
    init_libshout_once();
    shout_.reset(shout_new());
    if (!shout_) throw std::runtime_error("libshout: out of memory");
    shout_t* s = shout_.get();
    check(s, shout_set_host(s, target.host.c_str()), "host");
    check(s, shout_set_port(s, static_cast<unsigned short>(target.port)), "port");
    check(s, shout_set_mount(s, target.mount.c_str()), "mount");
    check(s, shout_set_user(s, target.user.c_str()), "user");
    check(s, shout_set_password(s, target.password.c_str()), "password");
    check(s, shout_set_protocol(s, SHOUT_PROTOCOL_HTTP), "protocol");
    check(s, shout_set_tls(s, SHOUT_TLS_DISABLED), "TLS mode");
    check(s, shout_set_content_format(s, SHOUT_FORMAT_OGG, SHOUT_USAGE_AUDIO, nullptr),
          "content format");
    check(s, shout_set_agent(s, "clubvoiced"), "agent");
    check(s, shout_set_meta(s, SHOUT_META_NAME, "clubvoice room"), "stream name");
    check(s, shout_set_nonblocking(s, SHOUT_BLOCKING_NONE), "non-blocking mode");
}

ShoutConnection::Progress ShoutConnection::open() {
    shout_t* s = shout_.get();
    const int rc = opening_ ? shout_get_connected(s) : shout_open(s);
    opening_ = true;
    if (rc == SHOUTERR_SUCCESS || rc == SHOUTERR_CONNECTED) return Progress::done;
    if (rc == SHOUTERR_BUSY || rc == SHOUTERR_RETRY) return Progress::pending;
    return Progress::failed;
}

bool ShoutConnection::send(std::string_view pages) {
    const int rc = shout_send(shout_.get(), reinterpret_cast<const unsigned char*>(pages.data()),
                              pages.size());
    // libshout queues the bytes and does not report the socket's failure
    // from this call; moving its queue on does.
    return (rc == SHOUTERR_SUCCESS || rc == SHOUTERR_BUSY) && flush();
}

bool ShoutConnection::flush() {
    // A zero-length send only moves libshout's queue on; RETRY means the
    // socket would block.
    const int rc = shout_send(shout_.get(), nullptr, 0);
    return rc == SHOUTERR_SUCCESS || rc == SHOUTERR_BUSY || rc == SHOUTERR_RETRY;
}

std::size_t ShoutConnection::queued() const {
    const ssize_t bytes = shout_queuelen(shout_.get());
    return bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
}

std::string ShoutConnection::error() const {
    return shout_get_error(shout_.get());
}

}  // namespace clubvoice
