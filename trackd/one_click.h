// one_click.h — whether a POST body is RFC 8058's one-click unsubscribe
// request: the form field List-Unsubscribe with the value One-Click, sent as
// application/x-www-form-urlencoded (List-Unsubscribe=One-Click, maybe among
// other fields, percent-encoded or with '+' for spaces) or as
// multipart/form-data (a part with Content-Disposition: form-data;
// name="List-Unsubscribe" whose content is One-Click). Names and values are
// compared exactly, as the RFC spells them; surrounding whitespace and a
// trailing CRLF are ignored. Any other media type, or none, is refused.
// Pure; the body is bounded by the server before it gets here.
#pragma once

#include <string_view>

namespace tenantmail::trackd {

bool is_one_click_request(std::string_view content_type, std::string_view body);

}  // namespace tenantmail::trackd
