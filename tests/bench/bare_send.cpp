// The floor for fan-out cost: accepts plain TCP connections and, every 20 ms,
// writes to each one the same bytes an `audio` event takes on a WebSocket
// (text frame + 80-byte binary frame) with ONE send(). No protocol, no
// queues: what the kernel charges per packet. Not a test; run by
// tests/bench/fanout_bench.py with fanout-loadgen --raw as the client.
// Usage: bare-send --port P
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::int64_t realtime_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The wire bytes of one `audio` event: text frame then binary frame.
std::string event_bytes(std::uint64_t seq, std::int64_t t) {
    char text[128];
    const int n =
        std::snprintf(text, sizeof text,
                      "451-[\"audio\",{\"seq\":%llu,\"t\":%lld},{\"_placeholder\":true,\"num\":0}]",
                      static_cast<unsigned long long>(seq), static_cast<long long>(t));
    std::string out;
    out += static_cast<char>(0x81);
    out += static_cast<char>(n);
    out.append(text, static_cast<std::size_t>(n));
    out += static_cast<char>(0x82);
    out += static_cast<char>(80);
    out.append(80, '\x55');
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string_view(argv[i]) == "--port") port = std::atoi(argv[i + 1]);
    }
    if (port <= 0) {
        std::fprintf(stderr, "usage: bare-send --port P\n");
        return 2;
    }
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(lfd, 512) < 0) {
        std::perror("bare-send: bind/listen");
        return 1;
    }
    // An absolute 20 ms tick: no drift, like a sound card's clock.
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    itimerspec spec{};
    spec.it_interval.tv_nsec = 20000000;
    spec.it_value.tv_nsec = 20000000;
    timerfd_settime(tfd, 0, &spec, nullptr);

    const int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = tfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);

    std::vector<int> clients;
    std::uint64_t seq = 0;
    std::uint64_t short_sends = 0;
    epoll_event events[16];
    for (;;) {
        const int n = epoll_wait(ep, events, 16, -1);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.fd == lfd) {
                for (int fd;
                     (fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    clients.push_back(fd);
                }
            } else {
                std::uint64_t expirations = 0;
                if (read(tfd, &expirations, sizeof expirations) < 0) continue;
                const std::string bytes = event_bytes(seq++, realtime_ms());
                for (int fd : clients) {
                    const ssize_t sent =
                        send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (sent != static_cast<ssize_t>(bytes.size()) && ++short_sends % 1000 == 1) {
                        std::fprintf(stderr, "bare-send: %llu short sends\n",
                                     static_cast<unsigned long long>(short_sends));
                    }
                }
            }
        }
    }
}
