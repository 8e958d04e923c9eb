// cli_options.h — shared command-line parsing for tenantmailctl subcommands:
// Boost.Program_options with --help and errors printed the same way for all.
#pragma once

#include <boost/program_options.hpp>

#include "tenantmailctl/commands.h"

namespace tenantmail::ctl {

// Parses args into vm. Returns -1 to go on, or the exit status to return now
// (0 after --help, 2 after a usage error, which is printed with the help).
int parse_command_options(const Args& args, const boost::program_options::options_description& desc,
                          boost::program_options::variables_map& vm,
                          const boost::program_options::positional_options_description* positional = nullptr);

}  // namespace tenantmail::ctl
