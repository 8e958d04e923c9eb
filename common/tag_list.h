// tag_list.h — the "tag=value; tag=value" syntax shared by DKIM key records
// (RFC 6376 3.2) and DMARC records (RFC 7489 6.4). Splits and checks names
// only; what a tag means, and which are required, is the caller's business.
// Pure. Fails on the first bad tag-spec or a tag given twice, naming it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct Tag {
    std::string name;   // as written (tag names are case-sensitive)
    std::string value;  // surrounding whitespace removed, inner kept
};

struct TagList {
    std::vector<Tag> tags;  // in record order

    const Tag* find(std::string_view name) const;
    std::optional<std::string> value(std::string_view name) const;
};

// A trailing ';' is allowed, an empty tag-spec elsewhere is not.
Result<TagList> parse_tag_list(std::string_view text);

}  // namespace tenantmail
