// Writing prebuilt WebSocket bytes. lws sends LWS_WRITE_RAW bytes unframed
// on a WebSocket (no extensions are negotiated) and server frames are
// unmasked, so bytes built once are the wire bytes for every listener, and
// an event's frames (text and binary) leave in one write. lws may write its
// own header into the LWS_PRE bytes before `bytes`: they must be ours.
// What the kernel does not take now lws keeps (lws_partial_buffered).
// Thread: loop.
#pragma once

#include <libwebsockets.h>

#include <string_view>

namespace clubvoice {

inline int write_ws_bytes(lws* wsi, std::string_view bytes) {
    auto* data = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data()));
    return lws_write(wsi, data, bytes.size(), LWS_WRITE_RAW) < 0 ? -1 : 0;
}

}  // namespace clubvoice
