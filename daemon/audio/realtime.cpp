#include "realtime.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

namespace clubvoice {
namespace {

struct Attr {
    pthread_attr_t attr{};
    Attr() { pthread_attr_init(&attr); }
    ~Attr() { pthread_attr_destroy(&attr); }
    Attr(const Attr&) = delete;
    Attr& operator=(const Attr&) = delete;
};

// glibc puts a thread's static TLS on the stack it is given, and the
// ThreadSanitizer runtime keeps ~770 KiB of per-thread state there.
#if defined(__SANITIZE_THREAD__)
constexpr std::size_t kTlsReserve = std::size_t{1} << 20;
#else
constexpr std::size_t kTlsReserve = 0;
#endif

}  // namespace

RealtimeThread::Stack::Stack(std::size_t size) : bytes(size) {
    base =
        mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) {
        base = nullptr;
        throw std::system_error(errno, std::generic_category(), "mmap(thread stack)");
    }
    lock_buffer(base, size);
}

RealtimeThread::Stack::~Stack() {
    if (base != nullptr) munmap(base, bytes);
}

void* RealtimeThread::entry(void* state) {
    static_cast<State*>(state)->body();
    return nullptr;
}

void RealtimeThread::start(std::function<void()> body, int priority, std::size_t stack_bytes) {
    join();
    state_ = std::make_unique<State>(State{std::move(body)});
    stack_ = std::make_unique<Stack>(stack_bytes + kTlsReserve);
    realtime_ = false;
    refused_.clear();

    int rc = EPERM;
    if (priority > 0) {
        Attr a;
        sched_param param{};
        param.sched_priority = priority;
        pthread_attr_setstack(&a.attr, stack_->base, stack_->bytes);
        pthread_attr_setinheritsched(&a.attr, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&a.attr, SCHED_FIFO);
        pthread_attr_setschedparam(&a.attr, &param);
        rc = pthread_create(&thread_, &a.attr, &entry, state_.get());
        if (rc == 0) {
            realtime_ = true;
            return;
        }
        refused_ = fmt::format("SCHED_FIFO priority {}: {}", priority, std::strerror(rc));
    }
    Attr a;
    pthread_attr_setstack(&a.attr, stack_->base, stack_->bytes);
    rc = pthread_create(&thread_, &a.attr, &entry, state_.get());
    if (rc != 0) {
        state_.reset();
        stack_.reset();
        throw std::system_error(rc, std::generic_category(), "pthread_create(audio thread)");
    }
}

void RealtimeThread::join() {
    if (!state_) return;
    pthread_join(thread_, nullptr);
    state_.reset();
    stack_.reset();
}

double RealtimeThread::cpu_seconds() const {
    if (!state_) return 0.0;
    clockid_t clock{};
    timespec ts{};
    if (pthread_getcpuclockid(thread_, &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0.0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool lock_buffer(const void* data, std::size_t bytes) {
    if (!memory_locking_available() || bytes == 0) return false;
    return mlock(data, bytes) == 0;
}

std::string lock_memory() {
    if (!memory_locking_available()) return "mlockall: not used in sanitizer builds";
    if (mlockall(MCL_CURRENT) != 0) return fmt::format("mlockall: {}", std::strerror(errno));
    return {};
}

}  // namespace clubvoice
