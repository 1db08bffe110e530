#include "lws_request.hpp"

#include "client_address.hpp"

#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace clubvoice {

std::optional<std::string> url_arg(lws* wsi, const char* name_with_equals) {
    std::array<char, 256> buffer{};
    const char* value = lws_get_urlarg_by_name(wsi, name_with_equals, buffer.data(),
                                               static_cast<int>(buffer.size()));
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::vector<std::string> url_arguments(lws* wsi) {
    std::vector<std::string> args;
    const int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total <= 0) return args;
    // No argument is longer than all of them; lws's header buffer bounds the total.
    std::string buffer(static_cast<std::size_t>(total) + 1, '\0');
    for (int index = 0;; ++index) {
        const int length =
            lws_hdr_copy_fragment(wsi, buffer.data(), total + 1, WSI_TOKEN_HTTP_URI_ARGS, index);
        if (length < 0) break;
        args.emplace_back(buffer.data(), static_cast<std::size_t>(length));
    }
    return args;
}

std::optional<std::string> request_header(lws* wsi, lws_token_indexes token) {
    int length = lws_hdr_total_length(wsi, token);
    if (length <= 0) return std::nullopt;
    std::string value(static_cast<std::size_t>(length) + 1, '\0');
    if (lws_hdr_copy(wsi, value.data(), length + 1, token) < 0) return std::nullopt;
    value.resize(static_cast<std::size_t>(length));
    return value;
}

std::string_view request_method(lws* wsi) {
    static constexpr std::array<std::pair<lws_token_indexes, std::string_view>, 7> kMethods{{
        {WSI_TOKEN_GET_URI, "GET"},
        {WSI_TOKEN_HEAD_URI, "HEAD"},
        {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
        {WSI_TOKEN_PUT_URI, "PUT"},
        {WSI_TOKEN_PATCH_URI, "PATCH"},
        {WSI_TOKEN_DELETE_URI, "DELETE"},
    }};
    for (const auto& [token, name] : kMethods) {
        if (lws_hdr_total_length(wsi, token) > 0) return name;
    }
    return "OTHER";
}

std::string peer_address(lws* wsi) {
    std::array<char, 64> peer{};
    const char* name = lws_get_peer_simple(wsi, peer.data(), peer.size());
    return name != nullptr ? std::string(name) : std::string("?");
}

}  // namespace clubvoice

namespace clubvoice {
namespace {

// A header lws has no token for (it keeps every header it was not told to drop).
std::optional<std::string> custom_header(lws* wsi, const char* name_with_colon) {
    const int name_length = static_cast<int>(std::char_traits<char>::length(name_with_colon));
    int length = lws_hdr_custom_length(wsi, name_with_colon, name_length);
    if (length <= 0) return std::nullopt;
    std::string value(static_cast<std::size_t>(length) + 1, '\0');
    if (lws_hdr_custom_copy(wsi, value.data(), length + 1, name_with_colon, name_length) < 0) {
        return std::nullopt;
    }
    value.resize(static_cast<std::size_t>(length));
    return value;
}

}  // namespace

IpAddress request_client(lws* wsi, std::span<const IpNetwork> trusted_proxies) {
    IpAddress peer = IpAddress::parse(peer_address(wsi)).value_or(IpAddress{});
    if (trusted_proxies.empty()) return peer;
    auto forwarded_for = request_header(wsi, WSI_TOKEN_X_FORWARDED_FOR);
    auto forwarded = custom_header(wsi, "forwarded:");
    return client_address(peer, trusted_proxies, forwarded_for, forwarded);
}

std::string request_bearer(lws* wsi) {
    auto header = request_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (!header) return {};
    std::string_view value(*header);
    constexpr std::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size()) return {};
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return {};
    }
    value.remove_prefix(kScheme.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    return std::string(value);
}

}  // namespace clubvoice
