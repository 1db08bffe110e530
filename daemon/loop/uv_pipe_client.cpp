#include "uv_pipe_client.hpp"

#include "internal_errors.hpp"

#include <utility>
#include <vector>

namespace clubvoice {

// One connection's handle and buffer. Freed in the handle's close callback,
// which libuv runs after every pending write's callback.
struct UvPipeClient::Connection {
    uv_pipe_t pipe{};
    uv_connect_t connect_request{};
    UvPipeClient* owner = nullptr;  // null once the owner let go of it
    bool open = false;
    std::vector<char> read_buffer = std::vector<char>(4096);
};

namespace {

struct WriteRequest {
    uv_write_t request{};
    std::string bytes;
};

}  // namespace

UvPipeClient::UvPipeClient(uv_loop_t* loop, Events events)
    : loop_(loop), events_(std::move(events)) {}

UvPipeClient::~UvPipeClient() {
    close();
}

bool UvPipeClient::connected() const {
    return current_ != nullptr && current_->open;
}

void UvPipeClient::connect(const std::string& path) {
    close();
    auto* connection = new Connection;  // NOLINT(cppcoreguidelines-owning-memory): freed on close
    connection->owner = this;
    if (int rc = uv_pipe_init(loop_, &connection->pipe, 0); rc < 0) {
        delete connection;  // NOLINT(cppcoreguidelines-owning-memory): never handed to libuv
        if (events_.lost) events_.lost(rc);
        return;
    }
    connection->pipe.data = connection;
    connection->connect_request.data = connection;
    current_ = connection;
    uv_pipe_connect(&connection->connect_request, &connection->pipe, path.c_str(),
                    [](uv_connect_t* request, int status) noexcept {
                        auto* c = static_cast<Connection*>(request->data);
                        if (c->owner == nullptr) return;  // closed meanwhile
                        run_guarded("a Unix socket connection",
                                    [&] { c->owner->on_connect(*c, status); });
                    });
}

void UvPipeClient::on_connect(Connection& connection, int status) {
    if (status < 0) {
        drop(status);
        return;
    }
    connection.open = true;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&connection.pipe),
        [](uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
            auto* c = static_cast<Connection*>(handle->data);
            *buf = uv_buf_init(c->read_buffer.data(), static_cast<unsigned>(c->read_buffer.size()));
        },
        [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) noexcept {
            auto* c = static_cast<Connection*>(stream->data);
            if (c->owner == nullptr) return;
            run_guarded("a Unix socket connection", [&] { c->owner->on_read(*c, n, buf); });
        });
    if (events_.connected) events_.connected();
}

void UvPipeClient::on_read(Connection& connection, ssize_t n, const uv_buf_t* buf) {
    (void)connection;
    if (n < 0) {
        drop(static_cast<int>(n));
        return;
    }
    if (n > 0 && events_.received) {
        events_.received(std::string_view(buf->base, static_cast<std::size_t>(n)));
    }
}

bool UvPipeClient::write(std::string bytes) {
    if (!connected()) return false;
    // Freed by its callback, which libuv calls whatever becomes of the write.
    auto* request = new WriteRequest;  // NOLINT(cppcoreguidelines-owning-memory)
    request->bytes = std::move(bytes);
    request->request.data = request;
    uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
    int rc = uv_write(
        &request->request, reinterpret_cast<uv_stream_t*>(&current_->pipe), &buf, 1,
        [](uv_write_t* r, int) noexcept {
            delete static_cast<WriteRequest*>(r->data);  // NOLINT(cppcoreguidelines-owning-memory)
        });
    if (rc < 0) {
        delete request;  // NOLINT(cppcoreguidelines-owning-memory): libuv did not take it
        drop(rc);
        return false;
    }
    return true;
}

void UvPipeClient::drop(int status) {
    close();
    if (events_.lost) events_.lost(status);
}

void UvPipeClient::finish() {
    if (!connected()) {
        close();
        return;
    }
    Connection* connection = std::exchange(current_, nullptr);
    connection->owner = nullptr;
    connection->open = false;
    auto* request = new uv_shutdown_t;  // NOLINT(cppcoreguidelines-owning-memory): freed below
    request->data = connection;
    int rc = uv_shutdown(request, reinterpret_cast<uv_stream_t*>(&connection->pipe),
                         [](uv_shutdown_t* r, int) noexcept {
                             auto* c = static_cast<Connection*>(r->data);
                             delete r;  // NOLINT(cppcoreguidelines-owning-memory)
                             uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe),
                                      [](uv_handle_t* h) noexcept {
                                          // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
                                          delete static_cast<Connection*>(h->data);
                                      });
                         });
    if (rc < 0) {
        delete request;  // NOLINT(cppcoreguidelines-owning-memory): libuv did not take it
        current_ = connection;
        close();
    }
}

void UvPipeClient::close() {
    if (current_ == nullptr) return;
    Connection* connection = std::exchange(current_, nullptr);
    connection->owner = nullptr;
    connection->open = false;
    auto* handle = reinterpret_cast<uv_handle_t*>(&connection->pipe);
    if (uv_is_closing(handle) == 0) {
        uv_close(handle, [](uv_handle_t* h) noexcept {
            delete static_cast<Connection*>(h->data);  // NOLINT(cppcoreguidelines-owning-memory)
        });
    }
}

}  // namespace clubvoice
