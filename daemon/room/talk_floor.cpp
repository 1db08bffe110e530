#include "talk_floor.hpp"

#include "access_policy.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace clubvoice {

nlohmann::json to_json(const TalkerId& who) {
    return {{"id", who.id}, {"name", who.name}};
}

nlohmann::json TalkAnswer::to_json() const {
    nlohmann::json out = {{"granted", granted},
                          {"holder", holder ? clubvoice::to_json(*holder) : nlohmann::json()}};
    if (!reason.empty()) out["reason"] = reason;
    return out;
}

std::optional<std::string> may_talk(AudioMode mode, bool role_allows) {
    if (mode == AudioMode::listen) return "this room is listen-only";
    if (!role_allows) return std::string(kTalkTokenNeeded);
    return std::nullopt;
}

TalkFloor::TalkFloor(AudioMode mode, std::size_t max_talkers)
    : mode_(mode), max_talkers_(max_talkers) {}

bool TalkFloor::set_mode(AudioMode mode, std::size_t max_talkers) {
    mode_ = mode;
    max_talkers_ = max_talkers;
    std::size_t keep = talkers_.size();
    if (mode == AudioMode::listen) keep = 0;
    if (mode == AudioMode::half) keep = std::min<std::size_t>(keep, 1);
    if (mode == AudioMode::full) keep = std::min(keep, max_talkers);
    if (keep == talkers_.size()) return false;
    talkers_.resize(keep);
    return true;
}

const TalkerId* TalkFloor::holder() const {
    if (mode_ != AudioMode::half || talkers_.empty()) return nullptr;
    return &talkers_.front();
}

TalkAnswer TalkFloor::request(const TalkerId& who, bool on, bool role_allows, bool& changed) {
    changed = false;
    TalkAnswer answer;
    const bool talking = std::ranges::find(talkers_, who) != talkers_.end();
    if (!on) {
        changed = remove(who.id);
    } else if (talking) {
        answer.granted = true;
    } else if (auto refused = may_talk(mode_, role_allows)) {
        answer.reason = *refused;
    } else if (const TalkerId* h = holder()) {
        answer.reason = fmt::format("the floor is held by {}", h->name.empty() ? h->id : h->name);
    } else if (mode_ == AudioMode::full && talkers_.size() >= max_talkers_) {
        answer.reason =
            fmt::format("{} clients are already talking (talk.max_talkers)", talkers_.size());
    } else {
        talkers_.push_back(who);
        answer.granted = true;
        changed = true;
    }
    if (const TalkerId* h = holder()) answer.holder = *h;
    return answer;
}

bool TalkFloor::remove(std::string_view id) {
    return std::erase_if(talkers_, [id](const TalkerId& t) { return t.id == id; }) > 0;
}

bool TalkFloor::may_play(std::string_view id) const {
    return std::ranges::any_of(talkers_, [id](const TalkerId& t) { return t.id == id; });
}

nlohmann::json TalkFloor::state_json() const {
    nlohmann::json talkers = nlohmann::json::array();
    for (const auto& t : talkers_) talkers.push_back(to_json(t));
    const TalkerId* h = holder();
    return {{"talkers", std::move(talkers)}, {"floor", h ? to_json(*h) : nlohmann::json()}};
}

}  // namespace clubvoice
