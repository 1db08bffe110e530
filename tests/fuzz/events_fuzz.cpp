// libFuzzer target for the room namespace's argument checks (room_events.hpp)
// and the cleaning of client text (utf8.hpp): what a client sends as CONNECT
// auth and event arguments. Checks never throw, a result either holds a
// value or says why not, and what is accepted has the documented shape.
//
// Input: one mode byte, then JSON text, optionally a NUL and a tail.
//   mode bit 0     append the tail as a binary last argument (a mic packet)
//   mode bits 1-7  the byte limit for clean_client_text on the raw input
#include "opus_packet_check.hpp"
#include "room_events.hpp"
#include "utf8.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

using namespace clubvoice;
using nlohmann::json;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "events_fuzz: invariant broken: %s\n", what);
    std::abort();
}

// What clean_client_text promises for text it lets through.
bool is_clean(std::string_view text) {
    if (!is_valid_utf8(text)) return false;
    if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) return false;
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if (c == 0xc2 && next >= 0x80 && next < 0xa0) return false;  // C1
        if (c == 0xe2 && next == 0x80 && i + 2 < text.size() &&
            (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
            return false;  // U+2028, U+2029
        }
    }
    return true;
}

void check_cleaning(std::string_view raw, std::size_t max_bytes) {
    const CleanedText cleaned = clean_client_text(raw, max_bytes);
    require(cleaned.ok() == is_valid_utf8(raw), "text is refused exactly when it is not UTF-8");
    if (!cleaned.ok()) {
        require(cleaned.text.empty(), "refused text is empty");
        return;
    }
    require(cleaned.text.size() <= max_bytes, "cleaned text fits its limit");
    require(is_clean(cleaned.text), "cleaned text is clean");
    require(clean_client_text(cleaned.text, max_bytes).text == cleaned.text,
            "cleaning is idempotent");
}

template <typename T>
void require_well_formed(const room::Checked<T>& result) {
    require(result.ok() == result.value.has_value(), "ok() means a value");
    require(result.ok() == result.problem.empty(), "a refusal says why, a value does not");
}

void check_auth(const json& auth) {
    const auto result = room::check_connect_auth(auth);
    require_well_formed(result);
    if (!result.ok()) return;
    const std::string& name = result.value->name;
    require(name.size() <= room::kMaxNameBytes, "name fits kMaxNameBytes");
    require(is_clean(name), "name is clean");
    if (result.value->token) {
        require(result.value->token->size() <= room::kMaxTokenBytes, "token fits");
    }
    // What the socket keeps prints (dump throws on invalid UTF-8) and reads back.
    const room::KeptAuth kept{name, Role::talker, std::nullopt};
    const json kept_json = kept.to_json();
    (void)kept_json.dump();
    require(room::KeptAuth::from_json(kept_json).name == name, "the kept name reads back");
}

void check_on_off(const json& args, const room::Checked<room::OnOff>& result) {
    require_well_formed(result);
    if (!result.ok()) return;
    require(args.is_array() && args.size() == 1 && args[0].is_object(), "on/off: [{...}]");
    require(args[0].at("on") == result.value->on, "on/off: the value sent");
}

void check_mic(const json& args) {
    const auto result = room::check_mic(args);
    require_well_formed(result);
    if (!result.ok()) return;
    const room::MicPacket& mic = *result.value;
    require(args.is_array() && !args.empty() && args.size() <= 2, "mic: one or two arguments");
    const auto& bytes = args.back().get_binary();
    require(mic.opus.data() == reinterpret_cast<const char*>(bytes.data()) &&
                mic.opus.size() == bytes.size(),
            "mic: the view is the whole binary argument");
    require(!mic.opus.empty() && mic.opus.size() <= room::kMaxMicPacketBytes, "mic: size");
    require(mic.samples >= 48 * kMinOpusPacketMs && mic.samples <= 48 * kMaxOpusPacketMs,
            "mic: duration within limits");
    require(!mic.seq || args.size() == 2, "mic: seq only from metadata");
}

void check_all(const json& args) {
    check_auth(args);
    check_on_off(args, room::check_talk(args));
    check_on_off(args, room::check_levels(args));
    const auto get_config = room::check_get_config(args);
    require_well_formed(get_config);
    require(!get_config.ok() || (args.is_array() && args.empty()), "get_config: []");
    check_mic(args);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        check_cleaning(rest, mode >> 1);

        const std::size_t nul = rest.find('\0');
        const std::string_view text = rest.substr(0, nul);
        json args = json::parse(text, nullptr, false);
        if (args.is_discarded()) return 0;
        if (mode & 1) {
            const std::string_view tail =
                nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
            json packet = json::binary(json::binary_t::container_type(tail.begin(), tail.end()));
            if (args.is_array()) {
                args.push_back(std::move(packet));
            } else {
                args = json::array({std::move(args), std::move(packet)});
            }
        }
        check_all(args);
        if (args.is_array() && !args.empty()) check_auth(args[0]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "events_fuzz: a check threw: %s\n", e.what());
        std::abort();
    }
    return 0;
}
