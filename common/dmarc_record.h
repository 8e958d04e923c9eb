// dmarc_record.h — the DMARC policy record at _dmarc.<domain> (RFC 7489 6.3):
// pick it among the TXT values at that name and parse it strictly enough to
// say why a receiver would ignore it. Pure.
// Unknown tags are ignored, as the RFC requires; every known tag is checked.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct DmarcRecord {
    std::string policy;                       // p=: none, quarantine or reject
    std::string subdomain_policy;             // sp=, "" when absent (then p= applies)
    int percent = 100;                        // pct=
    char dkim_alignment = 'r';                // adkim=
    char spf_alignment = 'r';                 // aspf=
    std::vector<std::string> aggregate_uris;  // rua=
    std::vector<std::string> failure_uris;    // ruf=
};

// True for TXT values that start with "v=DMARC" in any case: receivers
// discard other TXT records at _dmarc, but a botched "v=dmarc1 p=none" is
// still the record its author meant, so it is reported, not skipped.
bool looks_like_dmarc_record(std::string_view txt);

Result<DmarcRecord> parse_dmarc_record(std::string_view txt);

// The record tenantmail suggests: p=none (monitoring only) with reports to
// rua when given ("mailto:..." list, comma-separated).
std::string suggested_dmarc_record(std::string_view rua);

}  // namespace tenantmail
