// Many Socket.IO listeners in one thread, for the fan-out benchmark: each
// opens a WebSocket (Engine.IO v4, no polling), joins "/" and counts the
// `audio` events it receives, the gaps in their `seq` and the delay between
// their capture time `t` and arrival. Not a test; tests/bench/fanout_bench.py
// drives it over stdin ("start" resets the counters, "stop" prints them as
// one JSON line, "quit" exits). Usage:
//   fanout-loadgen --port P --clients N [--raw | --http PATH]
// --raw skips the HTTP upgrade and the Socket.IO connect (for bare-send,
// which writes the same frames to plain TCP connections). --http PATH makes
// every client a reader of an endless Ogg response (GET /stream.opus): it
// counts the audio pages by their headers ("events"), the Opus packets they
// end ("packets") and the gaps in the page numbers ("gaps", in pages); it has
// no capture time to measure a delay by.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kMaxInFlight = 64;  // handshakes under way at once: the listen backlog stays short
constexpr std::size_t kLatencyBuckets = 200000;  // 0.1 ms each: up to 20 s

std::int64_t realtime_us() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

struct Stats {
    std::uint64_t events = 0;
    std::uint64_t binaries = 0;
    std::uint64_t bytes = 0;
    std::uint64_t gaps = 0;  // events missing between two received seq numbers
    std::uint64_t reordered = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t packets = 0;  // --http: Opus packets ended in the counted pages
    std::uint64_t resyncs = 0;  // --http: bytes where a page header should have been
    std::vector<std::uint32_t> latency = std::vector<std::uint32_t>(kLatencyBuckets);
};

struct Conn {
    int fd = -1;
    enum State { connecting, upgrading, open, dead } state = connecting;
    bool joined = false;
    std::int64_t last_seq = -1;
    std::string buf;
};

struct Gen {
    int port = 0;
    int clients = 0;
    bool raw = false;
    std::string http_path;  // --http: read this response instead of Socket.IO
    int ep = -1;
    std::vector<Conn> conns;
    int next_to_open = 0;
    int in_flight = 0;
    int joined = 0;
    bool announced = false;
    Stats stats;
};

void send_all(int fd, std::string_view data) {
    // Small writes to a fresh socket: the kernel takes them whole.
    if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
        std::fprintf(stderr, "fanout-loadgen: short write on fd %d\n", fd);
    }
}

// A masked client text frame; the zero key leaves the payload as it is.
void send_text(int fd, std::string_view text) {
    std::string frame;
    frame += static_cast<char>(0x81);
    frame += static_cast<char>(0x80 | text.size());  // our frames are all < 126 bytes
    frame.append(4, '\0');
    frame += text;
    send_all(fd, frame);
}

void open_more(Gen& g) {
    while (g.next_to_open < g.clients && g.in_flight < kMaxInFlight) {
        Conn& c = g.conns[static_cast<std::size_t>(g.next_to_open)];
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            std::perror("fanout-loadgen: socket");
            std::exit(1);
        }
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(g.port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 &&
            errno != EINPROGRESS) {
            std::perror("fanout-loadgen: connect");
            std::exit(1);
        }
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u64 = static_cast<std::uint64_t>(g.next_to_open);
        epoll_ctl(g.ep, EPOLL_CTL_ADD, c.fd, &ev);
        ++g.next_to_open;
        ++g.in_flight;
    }
}

void mark_joined(Gen& g, Conn& c) {
    if (c.joined) return;
    c.joined = true;
    --g.in_flight;
    ++g.joined;
    open_more(g);
}

void on_text(Gen& g, Conn& c, std::string_view p, std::int64_t now_us) {
    if (p.starts_with("451-[\"audio\"")) {
        // 451-["audio",{"seq":N,"t":MS},{"_placeholder":true,"num":0}]
        const auto seq_at = p.find("\"seq\":");
        const auto t_at = p.find("\"t\":");
        if (seq_at == std::string_view::npos || t_at == std::string_view::npos) return;
        const std::int64_t seq = std::strtoll(p.data() + seq_at + 6, nullptr, 10);
        const std::int64_t t = std::strtoll(p.data() + t_at + 4, nullptr, 10);
        ++g.stats.events;
        if (c.last_seq >= 0) {
            if (seq > c.last_seq + 1)
                g.stats.gaps += static_cast<std::uint64_t>(seq - c.last_seq - 1);
            if (seq <= c.last_seq) ++g.stats.reordered;
        }
        c.last_seq = std::max(c.last_seq, seq);
        const std::int64_t delay = (now_us - t * 1000) / 100;
        const auto bucket = static_cast<std::size_t>(
            std::clamp<std::int64_t>(delay, 0, static_cast<std::int64_t>(kLatencyBuckets) - 1));
        ++g.stats.latency[bucket];
    } else if (p == "2") {
        send_text(c.fd, "3");  // Engine.IO heartbeat
    } else if (p.starts_with("0{")) {
        send_text(c.fd, "40");  // join the main namespace
    } else if (p.starts_with("40")) {
        mark_joined(g, c);
    }
}

void drop(Gen& g, Conn& c) {
    if (c.state == Conn::dead) return;
    if (!c.joined) --g.in_flight;
    c.state = Conn::dead;
    ++g.stats.disconnects;
    close(c.fd);
    open_more(g);
}

// Consumes every whole WebSocket frame at the front of the buffer.
void parse_frames(Gen& g, Conn& c) {
    const std::int64_t now_us = realtime_us();
    std::size_t at = 0;
    const auto* b = reinterpret_cast<const unsigned char*>(c.buf.data());
    while (c.buf.size() - at >= 2) {
        const unsigned opcode = b[at] & 0x0f;
        std::uint64_t len = b[at + 1] & 0x7f;
        std::size_t head = 2;
        if (len == 126) {
            if (c.buf.size() - at < 4) break;
            len = (std::uint64_t{b[at + 2]} << 8) | b[at + 3];
            head = 4;
        } else if (len == 127) {
            if (c.buf.size() - at < 10) break;
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | b[at + 2 + static_cast<std::size_t>(i)];
            head = 10;
        }
        if (c.buf.size() - at - head < len) break;
        const std::string_view payload(c.buf.data() + at + head, static_cast<std::size_t>(len));
        if (opcode == 1) {
            on_text(g, c, payload, now_us);
        } else if (opcode == 2) {
            ++g.stats.binaries;
        } else if (opcode == 8) {
            drop(g, c);
            return;
        }
        at += head + static_cast<std::size_t>(len);
    }
    c.buf.erase(0, at);
}

std::uint32_t le32(const unsigned char* p) {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
           std::uint32_t{p[3]} << 24;
}

// --http: the body is read as it comes, so a chunked one (whose chunk lines
// would sit between the pages) is refused rather than miscounted.
bool body_is_plain(std::string_view head) {
    std::string lower(head);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower.find("transfer-encoding:") == std::string::npos;
}

// --http: consumes every whole Ogg page at the front of the buffer (RFC 3533:
// "OggS", 27 header bytes, the segment table, then the body its lacing values
// add up to). Pages 0 and 1 are the Opus headers; the rest carry audio.
void parse_pages(Gen& g, Conn& c) {
    constexpr std::size_t kHeader = 27;
    std::size_t at = 0;
    const auto* b = reinterpret_cast<const unsigned char*>(c.buf.data());
    while (c.buf.size() - at >= kHeader) {
        if (std::memcmp(b + at, "OggS", 4) != 0) {
            // Lost the page boundary: on to the next capture pattern.
            ++g.stats.resyncs;
            const auto next = c.buf.find("OggS", at + 1);
            at = next == std::string::npos ? c.buf.size() - 3 : next;
            continue;
        }
        const std::size_t segments = b[at + 26];
        if (c.buf.size() - at < kHeader + segments) break;
        std::size_t body = 0;
        std::uint64_t packets = 0;
        for (std::size_t i = 0; i < segments; ++i) {
            const unsigned lacing = b[at + kHeader + i];
            body += lacing;
            packets += lacing < 255 ? 1 : 0;  // a value below 255 ends a packet
        }
        if (c.buf.size() - at < kHeader + segments + body) break;
        const std::int64_t seq = le32(b + at + 18);
        if (seq >= 2) {
            ++g.stats.events;
            g.stats.packets += packets;
            if (c.last_seq >= 0 && seq > c.last_seq + 1) {
                g.stats.gaps += static_cast<std::uint64_t>(seq - c.last_seq - 1);
            }
            if (c.last_seq >= 0 && seq <= c.last_seq) ++g.stats.reordered;
        }
        c.last_seq = std::max(c.last_seq, seq);
        at += kHeader + segments + body;
    }
    c.buf.erase(0, at);
}

void on_readable(Gen& g, Conn& c) {
    static char chunk[1 << 16];
    for (;;) {
        const ssize_t n = read(c.fd, chunk, sizeof chunk);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            drop(g, c);
            return;
        }
        if (n < 0) break;
        g.stats.bytes += static_cast<std::uint64_t>(n);
        c.buf.append(chunk, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof chunk) break;
    }
    if (c.state == Conn::upgrading) {
        const auto end = c.buf.find("\r\n\r\n");
        if (end == std::string::npos) return;
        if (!c.buf.starts_with(g.http_path.empty() ? "HTTP/1.1 101" : "HTTP/1.1 200") ||
            !body_is_plain(std::string_view(c.buf).substr(0, end))) {
            std::fprintf(stderr, "fanout-loadgen: refused: %.60s\n", c.buf.c_str());
            drop(g, c);
            return;
        }
        c.buf.erase(0, end + 4);
        c.state = Conn::open;
        if (!g.http_path.empty()) mark_joined(g, c);
    }
    if (g.http_path.empty()) {
        parse_frames(g, c);
    } else {
        parse_pages(g, c);
    }
}

void on_connected(Gen& g, Conn& c, std::uint64_t index) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        std::fprintf(stderr, "fanout-loadgen: connect: %s\n", std::strerror(err));
        drop(g, c);
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = index;
    epoll_ctl(g.ep, EPOLL_CTL_MOD, c.fd, &ev);
    if (g.raw) {
        c.state = Conn::open;
        mark_joined(g, c);
        return;
    }
    c.state = Conn::upgrading;
    if (!g.http_path.empty()) {
        send_all(c.fd, "GET " + g.http_path +
                           " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(g.port) + "\r\n\r\n");
        return;
    }
    std::string req =
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:" +
        std::to_string(g.port) +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    send_all(c.fd, req);
}

std::uint64_t percentile_us(const Stats& s, double q) {
    std::uint64_t total = 0;
    for (auto v : s.latency) total += v;
    if (total == 0) return 0;
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(total));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < s.latency.size(); ++i) {
        seen += s.latency[i];
        if (seen > want) return i * 100;
    }
    return (s.latency.size() - 1) * 100;
}

void print_stats(const Gen& g, double seconds) {
    int alive = 0;
    for (const auto& c : g.conns) alive += c.state == Conn::open ? 1 : 0;
    const Stats& s = g.stats;
    std::printf(
        "{\"seconds\":%.3f,\"events\":%llu,\"binaries\":%llu,\"bytes\":%llu,\"gaps\":%llu,"
        "\"reordered\":%llu,\"disconnects\":%llu,\"alive\":%d,\"delay_p50_us\":%llu,"
        "\"delay_p99_us\":%llu,\"delay_max_us\":%llu,\"packets\":%llu,\"resyncs\":%llu}\n",
        seconds, static_cast<unsigned long long>(s.events),
        static_cast<unsigned long long>(s.binaries), static_cast<unsigned long long>(s.bytes),
        static_cast<unsigned long long>(s.gaps), static_cast<unsigned long long>(s.reordered),
        static_cast<unsigned long long>(s.disconnects), alive,
        static_cast<unsigned long long>(percentile_us(s, 0.5)),
        static_cast<unsigned long long>(percentile_us(s, 0.99)),
        static_cast<unsigned long long>(percentile_us(s, 0.99999)),
        static_cast<unsigned long long>(s.packets), static_cast<unsigned long long>(s.resyncs));
    std::fflush(stdout);
}

// Commands from the driver, one per line.
bool on_stdin(Gen& g, std::int64_t& started_us) {
    char line[64];
    const ssize_t n = read(0, line, sizeof line - 1);
    if (n <= 0) return false;
    line[n] = '\0';
    if (std::strstr(line, "start")) {
        g.stats = Stats{};
        started_us = realtime_us();
    } else if (std::strstr(line, "stop")) {
        print_stats(g, static_cast<double>(realtime_us() - started_us) / 1e6);
    }
    return std::strstr(line, "quit") == nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    Gen g;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--port" && i + 1 < argc) g.port = std::atoi(argv[++i]);
        if (a == "--clients" && i + 1 < argc) g.clients = std::atoi(argv[++i]);
        if (a == "--raw") g.raw = true;
        if (a == "--http" && i + 1 < argc) g.http_path = argv[++i];
    }
    if (g.port <= 0 || g.clients <= 0 || (g.raw && !g.http_path.empty())) {
        std::fprintf(stderr, "usage: fanout-loadgen --port P --clients N [--raw | --http PATH]\n");
        return 2;
    }
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    g.conns.resize(static_cast<std::size_t>(g.clients));
    epoll_event in{};
    in.events = EPOLLIN;
    in.data.u64 = ~std::uint64_t{0};
    epoll_ctl(g.ep, EPOLL_CTL_ADD, 0, &in);
    open_more(g);
    std::int64_t started_us = realtime_us();
    std::vector<epoll_event> events(1024);
    for (;;) {
        const int n = epoll_wait(g.ep, events.data(), static_cast<int>(events.size()), 1000);
        for (int i = 0; i < n; ++i) {
            const std::uint64_t index = events[static_cast<std::size_t>(i)].data.u64;
            if (index == ~std::uint64_t{0}) {
                if (!on_stdin(g, started_us)) return 0;
                continue;
            }
            Conn& c = g.conns[index];
            if (c.state == Conn::dead) continue;
            if (c.state == Conn::connecting) {
                on_connected(g, c, index);
            } else {
                on_readable(g, c);
            }
        }
        if (!g.announced && g.next_to_open == g.clients && g.in_flight == 0) {
            g.announced = true;
            std::printf("connected %d\n", g.joined);
            std::fflush(stdout);
        }
    }
}
