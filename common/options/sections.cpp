// sections.cpp — see sections.h. A new section is one line here and one
// file in common/options/.
#include "common/options/sections.h"

#include <array>
#include <stdexcept>
#include <string>

#include "common/options/bounce.h"
#include "common/options/dns.h"
#include "common/options/maillog.h"
#include "common/options/milter.h"
#include "common/options/policyd.h"
#include "common/options/trackd.h"
#include "common/options/webhookd.h"

namespace tenantmail {
namespace {

constexpr std::array kSections = {
    OptionSection{"milter", milter::add_milter_section_options},
    OptionSection{"policyd", policyd::add_policyd_section_options},
    OptionSection{"dns", ctl::add_dns_options},
    OptionSection{"bounce", bounce::add_bounce_section_options},
    OptionSection{"maillog", maillog::add_maillog_section_options},
    OptionSection{"webhookd", webhookd::add_webhookd_section_options},
    OptionSection{"trackd", trackd::add_trackd_section_options},
};

}  // namespace

std::span<const OptionSection> option_sections() { return kSections; }

const OptionSection* find_option_section(std::string_view name) {
    for (const OptionSection& section : kSections) {
        if (section.name == name) return &section;
    }
    return nullptr;
}

void add_section_options(std::string_view name, boost::program_options::options_description& desc) {
    const OptionSection* section = find_option_section(name);
    // A caller naming a section that is not in the table is a programming error.
    if (section == nullptr) throw std::logic_error("no option section \"" + std::string(name) + "\"");
    section->add_options(desc);
}

}  // namespace tenantmail
