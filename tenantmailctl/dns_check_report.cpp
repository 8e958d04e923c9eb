#include "tenantmailctl/dns_check_report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace tenantmail::ctl {
namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kDim = "\033[2m";
constexpr const char* kReset = "\033[0m";

std::string mark(CheckStatus status, bool colour) {
    const char* symbol = status == CheckStatus::pass ? "✓" : status == CheckStatus::fail ? "✗" : "–";
    if (!colour) return symbol;
    const char* code = status == CheckStatus::pass ? kGreen : status == CheckStatus::fail ? kRed : kDim;
    return std::string(code) + symbol + kReset;
}

std::string pad(std::string_view text, std::size_t width) {
    std::string out(text);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}

std::string via_text(const std::vector<std::string>& via) {
    std::string out;
    for (const std::string& name : via) out += (out.empty() ? "" : " -> ") + terminal_text(name);
    return out.empty() ? out : " (via CNAME " + out + ")";
}

}  // namespace

bool want_colour() {
    if (std::getenv("NO_COLOR") != nullptr) return false;
    const char* term = std::getenv("TERM");
    if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
    return ::isatty(STDOUT_FILENO) == 1;
}

std::string render_check_text(const CheckReportHeader& header, const std::vector<CheckLine>& lines, bool colour) {
    std::string out = "DNS check for tenant " + header.tenant + " (resolver " + header.resolver + ")\n";
    std::size_t name_width = 0;
    for (const CheckLine& line : lines) name_width = std::max(name_width, terminal_text(line.name).size());
    std::size_t failed = 0;
    for (const CheckLine& line : lines) {
        std::string label = line.check;
        if (line.role == KeyRole::pending) label += "+";
        if (line.role == KeyRole::retiring) label += "-";
        // What DNS returned may hold any byte (a TXT record's ESC, BEL, CSI):
        // escaped, never sent to the terminal as is.
        std::string text = mark(line.status, colour) + " " + pad(label, 6) +
                           pad(terminal_text(line.name), name_width + 2) + terminal_text(line.found) +
                           via_text(line.via);
        if (line.status == CheckStatus::fail) text += "; expected " + terminal_text(line.expected);
        out += text + "\n";
        if (line.status == CheckStatus::fail) ++failed;
    }
    if (std::any_of(lines.begin(), lines.end(), [](const CheckLine& l) { return l.role != KeyRole::active; })) {
        out += "(DKIM+ is the next key of a rotation, DKIM- the previous one)\n";
    }
    out += all_green(lines)
               ? "OK: every required record is in place\n"
               : std::to_string(failed) + " of " + std::to_string(lines.size()) + " records need attention\n";
    return out;
}

std::string render_check_json(const CheckReportHeader& header, const std::vector<CheckLine>& lines,
                              const std::vector<std::string>& notes) {
    nlohmann::json out;
    out["tenant"] = header.tenant;
    out["resolver"] = header.resolver;
    out["ok"] = all_green(lines);
    nlohmann::json checks = nlohmann::json::array();
    for (const CheckLine& line : lines) {
        nlohmann::json item = {{"check", line.check},
                               {"name", line.name},
                               {"status", to_string(line.status)},
                               {"required", line.required},
                               {"found", line.found},
                               {"expected", line.expected},
                               {"via", line.via}};
        if (!line.selector.empty()) {
            item["selector"] = line.selector;
            item["role"] = to_string(line.role);
        }
        checks.push_back(std::move(item));
    }
    out["checks"] = checks;
    out["notes"] = notes;
    // A TXT record may hold bytes that are not UTF-8, which JSON cannot
    // carry: they become U+FFFD instead of an exception.
    return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace tenantmail::ctl
