// ini_file.cpp — line-by-line INI lexer; see ini_file.h for the accepted syntax.
// Rejects rather than guesses: a line that is neither a section header nor a
// key = value pair, control bytes and overlong lines are errors, because a
// silently skipped line in a mail config is a tenant that signs with no key.
#include "common/ini_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/c_handle.h"
#include "common/text.h"

namespace tenantmail {
namespace {

Result<std::string> read_small_file(const std::string& path) {
    CHandle<std::FILE, std::fclose> file(std::fopen(path.c_str(), "rb"));
    if (!file) return make_error(path + ": cannot open: " + std::strerror(errno));
    std::string data;
    char buffer[65536];
    for (;;) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        data.append(buffer, n);
        if (data.size() > kIniMaxFileSize) {
            return make_error(path + ": larger than " + std::to_string(kIniMaxFileSize) +
                              " bytes; not a configuration file?");
        }
        if (n < sizeof buffer) break;
    }
    if (std::ferror(file.get())) return make_error(path + ": read error: " + std::strerror(errno));
    return data;
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string hex_byte(unsigned char c) {
    static constexpr char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[c >> 4] + digits[c & 15];
}

// Tabs are whitespace; every other control byte (NUL, ESC, a stray CR inside a
// line) means this is not a text file we understand.
Result<void> check_bytes(std::string_view line) {
    for (const char ch : line) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == 0) return make_error("NUL byte in line; binary file?");
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return make_error("control character " + hex_byte(c) + " in line; binary file?");
        }
    }
    return {};
}

// An inline comment starts at '#' or ';' preceded by whitespace, so values
// such as URLs with '#fragment' or "a;b" survive.
std::string_view strip_inline_comment(std::string_view line) {
    for (std::size_t i = 1; i < line.size(); ++i) {
        if ((line[i] == '#' || line[i] == ';') && is_wsp(line[i - 1])) return line.substr(0, i);
    }
    return line;
}

bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

class Lexer {
public:
    Lexer(std::string_view filename, const IniOptions& options) : options_(options) {
        file_.filename = std::string(filename);
    }

    Result<void> line(std::string_view raw, std::size_t number) {
        number_ = number;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);  // CRLF files
        if (raw.size() > kIniMaxLineLength) {
            return fail("line longer than " + std::to_string(kIniMaxLineLength) + " characters");
        }
        if (auto bytes = check_bytes(raw); !bytes) return fail(bytes.error());
        const std::string_view text = trim(strip_inline_comment(trim(raw)));
        if (text.empty() || text.front() == '#' || text.front() == ';') return {};
        if (text.front() == '[') return section(text);
        return entry(text);
    }

    IniFile take() { return std::move(file_); }

private:
    Result<void> fail(std::string_view reason) const { return make_error(ini_error(file_.filename, number_, reason)); }

    Result<void> section(std::string_view text) {
        if (text.back() != ']') return fail("section header " + in_quotes(text) + " lacks a closing ']'");
        const std::string_view name = trim(text.substr(1, text.size() - 2));
        if (name.empty()) return fail("empty section name");
        if (name.find_first_of("[]") != std::string_view::npos) {
            return fail("brackets inside section name " + in_quotes(name));
        }
        current_ = std::string(name);
        file_.sections.push_back({current_, number_});
        return {};
    }

    Result<void> entry(std::string_view text) {
        const std::size_t eq = text.find('=');
        if (eq == std::string_view::npos) {
            return fail("expected \"[section]\" or \"key = value\", got " + in_quotes(text));
        }
        const std::string_view key = trim(text.substr(0, eq));
        if (key.empty()) return fail("empty key before '='");
        if (!std::all_of(key.begin(), key.end(), is_key_char)) {
            return fail("invalid key " + in_quotes(key) + " (letters, digits, '_', '-', '.' only)");
        }
        if (current_.empty() && !options_.allow_keys_outside_sections) {
            return fail("key " + in_quotes(key) + " outside any [section]");
        }
        file_.entries.push_back({current_, std::string(key), std::string(trim(text.substr(eq + 1))), number_});
        return {};
    }

    const IniOptions& options_;
    IniFile file_;
    std::string current_;
    std::size_t number_ = 0;
};

}  // namespace

std::string ini_error(std::string_view filename, std::size_t line, std::string_view reason) {
    return std::string(filename) + ":" + std::to_string(line) + ": " + std::string(reason);
}

Result<IniFile> parse_ini(std::string_view text, std::string_view filename, const IniOptions& options) {
    // A UTF-8 byte order mark is what some Windows editors put first; it is
    // not content.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    Lexer lexer(filename, options);
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view raw = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (auto ok = lexer.line(raw, ++number); !ok) return Error{ok.error()};
    }
    return lexer.take();
}

Result<IniFile> read_ini_file(const std::string& path, const IniOptions& options) {
    auto data = read_small_file(path);
    if (!data) return Error{data.error()};
    return parse_ini(*data, path, options);
}

namespace {

// Classic two-row Levenshtein distance; names are short, so O(n*m) is nothing.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitute = previous[j - 1] + (ascii_lower(a[i - 1]) != ascii_lower(b[j - 1]));
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

}  // namespace

std::string_view closest_name(std::string_view typo, const std::vector<std::string_view>& known) {
    std::string_view best;
    std::size_t best_distance = 3;  // more than two edits is a different word
    for (const std::string_view name : known) {
        const std::size_t distance = edit_distance(typo, name);
        if (distance < best_distance) {
            best = name;
            best_distance = distance;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view typo, const std::vector<std::string_view>& known) {
    const std::string_view best = closest_name(typo, known);
    return best.empty() ? std::string() : " (did you mean " + in_quotes(best) + "?)";
}

}  // namespace tenantmail
