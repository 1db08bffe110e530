// The one error type the Engine.IO and Socket.IO codecs throw for bad input
// from a peer. The caller closes only that peer's session. Thread: any.
#pragma once

#include <stdexcept>

namespace clubvoice {

class ProtocolError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace clubvoice
