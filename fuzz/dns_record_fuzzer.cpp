// dns_record_fuzzer.cpp — TXT values from DNS, which anyone who controls a
// zone writes: SPF records (spf_record), DMARC records (dmarc_record), DKIM
// key records (dkim_key_record) and the tag=value lists under the last two
// (tag_list). Every parser sees every input: they are cheap, and a real TXT
// value at the wrong name is input too.
// Invariants: a parsed SPF record or tag list printed again parses to the
// same terms or tags; parsed values stay within their documented ranges.
#include <string>

#include "common/dkim_key_record.h"
#include "common/dmarc_record.h"
#include "common/spf_record.h"
#include "common/tag_list.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tenantmail;

void check_spf(std::string_view txt) {
    (void)is_spf_record(txt);
    const auto record = parse_spf_record(txt);
    if (!record) return;
    std::string printed = "v=spf1";
    for (const SpfTerm& term : record->terms) {
        FUZZ_CHECK(!term.text.empty());
        printed += " " + term.text;
        (void)term.needs_dns_lookup();
    }
    const auto again = parse_spf_record(printed);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->terms.size() == record->terms.size());
    for (std::size_t i = 0; i < record->terms.size(); ++i) {
        const SpfTerm& a = record->terms[i];
        const SpfTerm& b = again->terms[i];
        FUZZ_CHECK(a.kind == b.kind && a.qualifier == b.qualifier && a.name == b.name && a.domain == b.domain);
    }
    (void)record->redirect();
    (void)record->all();
}

void check_tag_list(std::string_view txt) {
    const auto list = parse_tag_list(txt);
    if (!list) return;
    std::string printed;
    for (const Tag& tag : list->tags) printed += tag.name + "=" + tag.value + ";";
    const auto again = parse_tag_list(printed);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->tags.size() == list->tags.size());
    for (std::size_t i = 0; i < list->tags.size(); ++i) {
        FUZZ_CHECK(again->tags[i].name == list->tags[i].name);
        FUZZ_CHECK(again->tags[i].value == list->tags[i].value);
        FUZZ_CHECK(list->find(list->tags[i].name) != nullptr);
    }
}

void check_dmarc(std::string_view txt) {
    (void)looks_like_dmarc_record(txt);
    const auto record = parse_dmarc_record(txt);
    if (!record) return;
    FUZZ_CHECK(record->policy == "none" || record->policy == "quarantine" || record->policy == "reject");
    FUZZ_CHECK(record->percent >= 0 && record->percent <= 100);
    FUZZ_CHECK(record->dkim_alignment == 'r' || record->dkim_alignment == 's');
    FUZZ_CHECK(record->spf_alignment == 'r' || record->spf_alignment == 's');
}

void check_dkim_key(std::string_view txt) {
    (void)looks_like_dkim_key_record(txt);
    const auto record = parse_dkim_key_record(txt);
    if (!record) return;
    FUZZ_CHECK(record->revoked == record->public_key.empty());
    FUZZ_CHECK(record->public_key.size() <= txt.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view txt = fuzz::as_text(data, size);
    check_spf(txt);
    check_tag_list(txt);
    check_dmarc(txt);
    check_dkim_key(txt);
    (void)suggested_dmarc_record(txt);
    return 0;
}
