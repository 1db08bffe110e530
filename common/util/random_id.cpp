#include "random_id.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sys/random.h>

namespace clubvoice {

std::string random_id() {
    std::array<unsigned char, 15> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string id;
    id.reserve(20);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        for (int shift = 18; shift >= 0; shift -= 6) id += kAlphabet[(v >> shift) & 0x3f];
    }
    return id;
}

}  // namespace clubvoice
