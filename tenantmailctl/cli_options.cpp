#include "tenantmailctl/cli_options.h"

#include <iostream>

namespace tenantmail::ctl {

namespace po = boost::program_options;

int parse_command_options(const Args& args, const po::options_description& desc, po::variables_map& vm,
                          const po::positional_options_description* positional) {
    try {
        po::command_line_parser parser(args);
        parser.options(desc);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "tenantmailctl: " << e.what() << "\n\n" << desc << '\n';
        return 2;
    }
    return -1;
}

}  // namespace tenantmail::ctl
