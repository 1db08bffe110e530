// Who a talker is: the id their packets are filed under and the name the
// room sees. Thread: any (a value).
#pragma once

#include <string>

namespace clubvoice {

struct TalkerId {
    std::string id;    // the Socket.IO socket id
    std::string name;  // from CONNECT auth; may be empty

    bool operator==(const TalkerId& other) const { return id == other.id; }
};

}  // namespace clubvoice
