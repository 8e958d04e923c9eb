// sign_command.cpp — `tenantmailctl sign`: DKIM-sign one message read from
// stdin with the given keys and write it, signatures first, to stdout. The
// same signer the milter uses, so an admin can check a key and DNS record, and
// tests can feed a corpus to independent verifiers. Exit 1 if refused.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/dkim_key.h"
#include "common/dkim_signer.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"

namespace tenantmail::ctl {
namespace {

namespace po = boost::program_options;

Result<Canon> parse_canon_name(const std::string& name) {
    if (name == "relaxed") return Canon::relaxed;
    if (name == "simple") return Canon::simple;
    return make_error("unknown canonicalisation '" + name + "' (use simple or relaxed)");
}

// "relaxed/simple" -> header and body canonicalisation; "relaxed" alone means
// relaxed/simple as in RFC 6376 section 3.5 (a missing body part is simple).
Result<void> parse_canon_pair(const std::string& text, SignOptions& options) {
    const auto slash = text.find('/');
    auto header = parse_canon_name(text.substr(0, slash));
    if (!header) return Error{header.error()};
    auto body = parse_canon_name(slash == std::string::npos ? "simple" : text.substr(slash + 1));
    if (!body) return Error{body.error()};
    options.header_canon = *header;
    options.body_canon = *body;
    return {};
}

}  // namespace

int run_sign(const Args& args) {
    po::options_description desc("tenantmailctl sign: DKIM-sign a message read from stdin");
    std::string domain;
    std::vector<std::string> key_specs;
    std::string canon;
    long long timestamp = 0;
    long long expire_after = 0;
    bool allow_rsa1024 = false;
    desc.add_options()
        ("help,h", "show this help")
        ("domain,d", po::value(&domain)->required(), "signing domain (d=)")
        ("key,k", po::value(&key_specs)->required(),
         "SELECTOR:KEYFILE; repeat for a second signature (e.g. RSA and Ed25519)")
        ("canon", po::value(&canon)->default_value("relaxed/relaxed"), "header/body canonicalisation")
        ("timestamp", po::value(&timestamp), "t= in seconds since the epoch (default: now)")
        ("expire", po::value(&expire_after), "add x= this many seconds after t=")
        ("allow-rsa1024", po::bool_switch(&allow_rsa1024), "accept 1024-bit RSA keys");

    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm); status >= 0) return status;

    SignOptions options;
    options.domain = domain;
    options.timestamp = timestamp;
    if (vm.count("expire")) options.expire_after = expire_after;
    if (auto canon_ok = parse_canon_pair(canon, options); !canon_ok) {
        std::fprintf(stderr, "tenantmailctl sign: %s\n", canon_ok.error().c_str());
        return 2;
    }

    KeyPolicy policy;
    policy.allow_rsa1024 = allow_rsa1024;
    std::vector<DkimKey> keys;
    keys.reserve(key_specs.size());
    std::vector<std::string> selectors;
    for (const std::string& spec : key_specs) {
        const auto colon = spec.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
            std::fprintf(stderr, "tenantmailctl sign: --key wants SELECTOR:KEYFILE, got '%s'\n", spec.c_str());
            return 2;
        }
        auto key = DkimKey::load_file(spec.substr(colon + 1), policy);
        if (!key) {
            std::fprintf(stderr, "tenantmailctl sign: %s\n", key.error().c_str());
            return 1;
        }
        keys.push_back(std::move(key).value());
        selectors.push_back(spec.substr(0, colon));
    }
    for (size_t i = 0; i < keys.size(); ++i) options.keys.push_back(SignerKey{&keys[i], selectors[i]});

    std::cin >> std::noskipws;
    const std::string message{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    auto signatures = sign_message(message, options);
    if (!signatures) {
        std::fprintf(stderr, "tenantmailctl sign: message refused: %s\n", signatures.error().c_str());
        return 1;
    }
    for (const std::string& field : *signatures) {
        std::fwrite(field.data(), 1, field.size(), stdout);
        std::fwrite("\r\n", 1, 2, stdout);
    }
    std::fwrite(message.data(), 1, message.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace tenantmail::ctl
