// dns_render.h — a tenant's DNS records (dns_records.h) as the admin or a
// program wants them: a table like the ones sending platforms hand to mail
// admins (name, type, value, purpose; fits the given width, long values
// wrap inside their column), a BIND zone-file fragment to paste, or JSON.
// Pure: returns text.
#pragma once

#include <string>
#include <vector>

#include "tenantmailctl/dns_records.h"

namespace tenantmail::ctl {

// with_notes: end with what to do about SPF, rotation and DMARC.
std::string render_records_table(const TenantDns& tenant, const std::vector<DnsRecord>& records,
                                 std::size_t width = 100, bool with_notes = true);
std::string render_records_zone(const TenantDns& tenant, const std::vector<DnsRecord>& records);
std::string render_records_json(const TenantDns& tenant, const std::vector<DnsRecord>& records);

// TXT rdata in zone-file syntax: quoted, '"' and '\' escaped, split into
// character-strings of at most 255 octets (RFC 1035 3.3.14).
std::string zone_txt_rdata(std::string_view value);

// Breaks text into lines of at most width columns, preferring to break after
// a space or "; "; a run without one (base64) is cut at width.
std::vector<std::string> wrap_text(std::string_view text, std::size_t width);

}  // namespace tenantmail::ctl
