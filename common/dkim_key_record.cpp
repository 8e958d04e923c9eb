#include "common/dkim_key_record.h"

#include "common/base64.h"
#include "common/tag_list.h"
#include "common/text.h"

namespace tenantmail {

bool looks_like_dkim_key_record(std::string_view txt) {
    const std::string_view text = trim(txt);
    if (text.starts_with("v=DKIM1")) return true;
    auto tags = parse_tag_list(text);
    return tags && tags->find("p") != nullptr;
}

Result<DkimKeyRecord> parse_dkim_key_record(std::string_view txt) {
    auto tags = parse_tag_list(txt);
    if (!tags) return Error{tags.error()};
    // v= is optional, but when present it must come first and be DKIM1.
    if (const Tag* version = tags->find("v")) {
        if (version != &tags->tags.front()) return make_error("v= must be the first tag");
        if (version->value != "DKIM1") return make_error("v=" + version->value + " is not DKIM1");
    }
    DkimKeyRecord record;
    if (auto k = tags->value("k")) {
        record.key_type = to_lower(*k);
        if (record.key_type != "rsa" && record.key_type != "ed25519") {
            return make_error("unknown key type k=" + *k + " (rsa or ed25519)");
        }
    }
    if (auto h = tags->value("h")) {
        for (std::string_view rest = *h; !rest.empty();) {
            const std::size_t colon = rest.find(':');
            const std::string_view item = trim(rest.substr(0, colon));
            if (!item.empty()) record.hash_algs.push_back(to_lower(item));
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        }
    }
    if (auto t = tags->value("t")) {
        for (const char c : *t) record.testing = record.testing || c == 'y';
    }
    const auto p = tags->value("p");
    if (!p) return make_error("no p= tag (the public key)");
    if (p->empty()) {
        record.revoked = true;
        return record;
    }
    auto key = base64_decode(*p);
    if (!key || key->empty()) return make_error("p= is not valid base64");
    record.public_key = std::move(*key);
    if (record.key_type == "ed25519" && record.public_key.size() != 32) {
        return make_error("k=ed25519 but p= holds " + std::to_string(record.public_key.size()) + " bytes, not 32");
    }
    return record;
}

}  // namespace tenantmail
