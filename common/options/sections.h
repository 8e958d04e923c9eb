// sections.h — the one table of tenantmail.conf's program sections: each
// section's name and the function that declares its options. Every daemon
// adds its own section through its entry here, and tenantmailctl
// check-config loops over the whole table, so no program can forget a
// section (the way Postfix's postconf knows every daemon's parameters
// without linking a daemon). The common options (add_common_options in
// common/config.h) belong to no section and are not in the table.
#pragma once

#include <span>
#include <string_view>

#include <boost/program_options.hpp>

namespace tenantmail {

struct OptionSection {
    std::string_view name;  // [name] in tenantmail.conf; its options are name.*
    void (*add_options)(boost::program_options::options_description& desc);
};

// milter, policyd, dns, bounce, maillog, webhookd, trackd.
std::span<const OptionSection> option_sections();

// The entry called name; nullptr when no program owns such a section.
const OptionSection* find_option_section(std::string_view name);

// Adds the section's options to desc; name must be in the table.
void add_section_options(std::string_view name, boost::program_options::options_description& desc);

}  // namespace tenantmail
