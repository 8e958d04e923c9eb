// mailbox.cpp — RFC 5322 address parsing in two linear passes: a lexer that
// validates bytes, drops folding and comments and yields words and specials,
// then a recursive-descent parser over those tokens (no backtracking beyond
// one phrase, so no input can make it quadratic).
// Not a general RFC 5322 parser: domain literals and obsolete source routes
// are refused rather than interpreted. Errors name the offending text.
#include "common/mailbox.h"

#include <cstdint>
#include <cstdio>

#include "common/text.h"

namespace tenantmail {
namespace {

constexpr int max_comment_depth = 64;
constexpr std::size_t max_excerpt = 40;

enum class TokenKind { atom, quoted, domain_literal, special };

struct Token {
    TokenKind kind;
    char special = 0;          // for TokenKind::special
    std::string text;          // decoded content for atom/quoted/literal
    bool space_before = false; // folding whitespace or a comment preceded it
};

// Text quoted in an error, cut short and with line breaks flattened so one
// error stays one log line.
std::string excerpt(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, max_excerpt)) out += is_space(c) ? ' ' : c;
    if (text.size() > max_excerpt) out += "...";
    return out;
}

std::string offset_text(std::size_t offset) { return " at offset " + std::to_string(offset); }

bool is_atext(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return true;  // UTF8-non-ascii (RFC 6532); validity checked up front
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// Length of the well-formed UTF-8 sequence at pos, 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view s, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(s[pos]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, code = lead & 0x07u;
    } else {
        return 0;
    }
    if (s.size() - pos < length) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(s[pos + k]);
        if ((next & 0xC0u) != 0x80u) return 0;
        code = (code << 6) | (next & 0x3Fu);
    }
    if (length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) return 0;
    if (length == 4 && (code < 0x10000 || code > 0x10FFFF)) return 0;
    return length;
}

// Byte-level checks before any parsing, so the lexer may assume: no control
// characters, every line break is CRLF (or LF) followed by WSP, i.e. folding,
// and all 8-bit text is UTF-8.
Result<void> check_bytes(std::string_view value) {
    if (value.size() > max_address_field_bytes) {
        return make_error("address field is " + std::to_string(value.size()) + " bytes; at most " +
                          std::to_string(max_address_field_bytes / 1024) + " KB are accepted");
    }
    for (std::size_t pos = 0; pos < value.size();) {
        const auto c = static_cast<unsigned char>(value[pos]);
        if (c == '\r' && (pos + 1 == value.size() || value[pos + 1] != '\n')) {
            return make_error("bare CR" + offset_text(pos));
        }
        if (c == '\n' && pos + 1 < value.size() && !is_wsp(value[pos + 1])) {
            return make_error("line break not followed by whitespace" + offset_text(pos));
        }
        if (c == 0) return make_error("NUL byte" + offset_text(pos));
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", c);
            return make_error(std::string("control character ") + hex + offset_text(pos));
        }
        if (c < 0x80) {
            ++pos;
            continue;
        }
        const std::size_t length = utf8_sequence_length(value, pos);
        if (length == 0) return make_error("8-bit byte that is not UTF-8" + offset_text(pos));
        pos += length;
    }
    return {};
}

class Lexer {
public:
    explicit Lexer(std::string_view input) : in_(input) {}

    Result<std::vector<Token>> run() {
        std::vector<Token> tokens;
        bool space = false;
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (is_space(c)) {
                space = true;
                ++pos_;
                continue;
            }
            if (c == '(') {
                if (auto skipped = skip_comment(); !skipped) return Error{skipped.error()};
                space = true;
                continue;
            }
            auto token = next_token(c);
            if (!token) return Error{token.error()};
            token->space_before = space;
            space = false;
            tokens.push_back(std::move(*token));
        }
        return tokens;
    }

private:
    Result<Token> next_token(char c) {
        if (c == '"') return quoted_string();
        if (c == '[') return domain_literal();
        if (is_atext(c)) {
            const std::size_t start = pos_;
            while (pos_ < in_.size() && is_atext(in_[pos_])) ++pos_;
            return Token{TokenKind::atom, 0, std::string(in_.substr(start, pos_ - start))};
        }
        if (std::string_view("<>@,;:.").find(c) != std::string_view::npos) {
            ++pos_;
            return Token{TokenKind::special, c, std::string(1, c)};
        }
        if (c == ')') return make_error("unbalanced ')'" + offset_text(pos_));
        if (c == ']') return make_error("unbalanced ']'" + offset_text(pos_));
        if (c == '\\') return make_error("backslash outside a quoted string" + offset_text(pos_));
        return make_error(std::string("unexpected character '") + c + "'" + offset_text(pos_));
    }

    // quoted-pair = "\" (VCHAR / WSP): a backslash may not escape a line
    // break nor end the input.
    Result<char> quoted_pair() {
        if (pos_ + 1 >= in_.size()) return make_error("backslash at end of input");
        const char escaped = in_[pos_ + 1];
        if (escaped == '\r' || escaped == '\n') return make_error("backslash before a line break" + offset_text(pos_));
        pos_ += 2;
        return escaped;
    }

    // Comments nest, so a counter (not recursion) tracks depth; the cap keeps
    // the error useful and mirrors what other mail software tolerates.
    Result<void> skip_comment() {
        const std::size_t start = pos_;
        int depth = 0;
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c == '\\') {
                if (auto pair = quoted_pair(); !pair) return Error{pair.error()};
                continue;
            }
            ++pos_;
            if (c == '(' && ++depth > max_comment_depth) {
                return make_error("comments nested more than " + std::to_string(max_comment_depth) + " deep");
            }
            if (c == ')' && --depth == 0) return {};
        }
        return make_error("unbalanced '(': comment" + offset_text(start) + " is not closed");
    }

    // Folding inside quotes unfolds to its whitespace: CR and LF go, the WSP
    // that check_bytes guaranteed after them stays.
    Result<Token> quoted_string() {
        const std::size_t start = pos_++;
        std::string text;
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c == '"') {
                ++pos_;
                return Token{TokenKind::quoted, 0, std::move(text)};
            }
            if (c == '\\') {
                auto pair = quoted_pair();
                if (!pair) return Error{pair.error()};
                text += *pair;
                continue;
            }
            if (c != '\r' && c != '\n') text += c;
            ++pos_;
        }
        return make_error("unbalanced '\"': quoted string" + offset_text(start) + " is not closed");
    }

    Result<Token> domain_literal() {
        const std::size_t start = pos_++;
        std::string text = "[";
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c == ']') {
                ++pos_;
                return Token{TokenKind::domain_literal, 0, text + "]"};
            }
            if (c == '[') return make_error("'[' inside a domain literal" + offset_text(pos_));
            if (c == '\\') {
                auto pair = quoted_pair();
                if (!pair) return Error{pair.error()};
                text += *pair;
                continue;
            }
            if (!is_space(c)) text += c;
            ++pos_;
        }
        return make_error("unbalanced '[': domain literal" + offset_text(start) + " is not closed");
    }

    std::string_view in_;
    std::size_t pos_ = 0;
};

enum class Groups { refuse, flatten };

class Parser {
public:
    Parser(const std::vector<Token>& tokens, std::string_view field) : tokens_(tokens), field_(field) {}

    Result<void> parse_list(Groups groups, std::vector<Mailbox>& out) {
        while (true) {
            // obs-addr-list: empty elements between commas are tolerated.
            while (is_special(',')) ++i_;
            if (at_end()) return {};
            if (auto added = parse_address(groups, out); !added) return added;
            if (at_end()) return {};
            if (!is_special(',')) return unexpected("after an address");
        }
    }

private:
    bool at_end() const { return i_ >= tokens_.size(); }
    bool is_special(char c) const {
        return !at_end() && tokens_[i_].kind == TokenKind::special && tokens_[i_].special == c;
    }
    bool is_word() const {
        return !at_end() && (tokens_[i_].kind == TokenKind::atom || tokens_[i_].kind == TokenKind::quoted);
    }
    // obs-phrase lets '.' into display names ("J. Doe"), so phrases take it.
    bool is_phrase_part() const { return is_word() || is_special('.'); }

    std::string describe_current() const {
        if (at_end()) return "end of field";
        const Token& t = tokens_[i_];
        if (t.kind == TokenKind::quoted) return "quoted string \"" + excerpt(t.text) + "\"";
        return "'" + excerpt(t.text) + "'";
    }
    Error unexpected(std::string_view where) const {
        return make_error("unexpected " + describe_current() + " " + std::string(where));
    }

    // Words joined by one space where the source had folding or comments.
    std::string join_phrase(std::size_t from, std::size_t to) const {
        std::string out;
        for (std::size_t k = from; k < to; ++k) {
            if (!out.empty() && tokens_[k].space_before) out += ' ';
            out += tokens_[k].text;
        }
        return out;
    }

    std::size_t skip_phrase() {
        const std::size_t start = i_;
        while (is_phrase_part()) ++i_;
        return start;
    }

    Result<void> parse_address(Groups groups, std::vector<Mailbox>& out) {
        const std::size_t start = skip_phrase();
        const bool group = i_ > start && is_special(':');
        if (group && groups == Groups::refuse) {
            return make_error(std::string(field_) + " uses group syntax ('" + excerpt(join_phrase(start, i_)) +
                              ":...;'); exactly one mailbox is required");
        }
        i_ = start;
        if (group) return parse_group(out);
        auto mailbox = parse_mailbox();
        if (!mailbox) return Error{mailbox.error()};
        out.push_back(std::move(*mailbox));
        return {};
    }

    Result<void> parse_group(std::vector<Mailbox>& out) {
        const std::size_t start = skip_phrase();
        const std::string name = excerpt(join_phrase(start, i_));
        ++i_;  // ':'
        while (true) {
            while (is_special(',')) ++i_;
            if (is_special(';')) {
                ++i_;
                return {};
            }
            if (at_end()) return make_error("group '" + name + "' is not closed with ';'");
            auto mailbox = parse_mailbox();
            if (!mailbox) return Error{mailbox.error()};
            out.push_back(std::move(*mailbox));
            if (at_end()) return make_error("group '" + name + "' is not closed with ';'");
            if (!is_special(',') && !is_special(';')) return unexpected("in group '" + name + "'");
        }
    }

    Result<Mailbox> parse_mailbox() {
        const std::size_t start = skip_phrase();
        if (is_special('<')) {
            std::string display_name = join_phrase(start, i_);
            ++i_;
            return parse_angle_addr(std::move(display_name));
        }
        if (is_special('@')) {
            i_ = start;
            return parse_addr_spec({});
        }
        if (i_ > start && (at_end() || is_special(',') || is_special(';'))) {
            return make_error("missing '@' in '" + excerpt(join_phrase(start, i_)) + "'");
        }
        return unexpected("where an address was expected");
    }

    Result<Mailbox> parse_angle_addr(std::string display_name) {
        if (is_special('@')) {
            return make_error("obsolete source route ('<@relay:...>') is not accepted; use the plain address");
        }
        if (is_special('>')) return make_error("empty address '<>'");
        auto mailbox = parse_addr_spec(std::move(display_name));
        if (!mailbox) return mailbox;
        if (at_end()) return make_error("unbalanced '<': missing '>'");
        if (!is_special('>')) return unexpected("inside <...>");
        ++i_;
        return mailbox;
    }

    Result<Mailbox> parse_addr_spec(std::string display_name) {
        Mailbox mailbox;
        mailbox.display_name = std::move(display_name);
        auto local = parse_local_part();
        if (!local) return Error{local.error()};
        mailbox.local_part = std::move(*local);
        if (!is_special('@')) {
            if (at_end() || is_special(',') || is_special('>') || is_special(';')) {
                return make_error("missing '@' in '" + excerpt(mailbox.local_part) + "'");
            }
            return unexpected("after local part '" + excerpt(mailbox.local_part) + "'");
        }
        ++i_;
        auto domain = parse_domain();
        if (!domain) return Error{domain.error()};
        mailbox.domain = std::move(*domain);
        return mailbox;
    }

    // local-part = word *("." word); dot-atom and obs-local-part both fit.
    Result<std::string> parse_local_part() {
        if (!is_word()) {
            if (is_special('@')) return make_error("missing local part before '@'");
            return unexpected("where an address was expected");
        }
        std::string local = tokens_[i_++].text;
        while (is_special('.') || is_word()) {
            if (!is_special('.')) {
                return make_error("space in local part '" + excerpt(local + " " + tokens_[i_].text) +
                                  "' (quote it)");
            }
            ++i_;
            if (!is_word()) return make_error("local part '" + excerpt(local) + ".' has an empty word");
            local += '.';
            local += tokens_[i_++].text;
        }
        return local;
    }

    // obs-domain: atom *("." atom); one trailing dot (absolute form) dropped.
    Result<std::string> parse_domain() {
        if (!at_end() && tokens_[i_].kind == TokenKind::domain_literal) {
            return make_error("domain literal " + excerpt(tokens_[i_].text) +
                              " is not accepted: there is no domain name to check");
        }
        if (at_end() || tokens_[i_].kind != TokenKind::atom) return make_error("missing domain after '@'");
        std::string domain = tokens_[i_++].text;
        while (is_special('.')) {
            ++i_;
            if (is_special('.')) return make_error("empty label in domain '" + excerpt(domain) + "..'");
            if (at_end() || tokens_[i_].kind != TokenKind::atom) break;  // trailing dot
            domain += '.';
            domain += tokens_[i_++].text;
        }
        for (char c : domain) {
            if (static_cast<unsigned char>(c) >= 0x80) {
                return make_error("internationalised domain '" + excerpt(domain) +
                                  "' must be in A-label form (xn--...)");
            }
        }
        domain = to_lower(domain);
        if (!is_valid_domain(domain)) return make_error("invalid domain '" + excerpt(domain) + "'");
        return domain;
    }

    const std::vector<Token>& tokens_;
    std::string_view field_;
    std::size_t i_ = 0;
};

Result<std::vector<Mailbox>> parse_addresses(std::string_view value, Groups groups, std::string_view field) {
    if (auto bytes_ok = check_bytes(value); !bytes_ok) return Error{bytes_ok.error()};
    if (trim(value).empty()) return make_error(std::string(field) + " is empty");
    auto tokens = Lexer(value).run();
    if (!tokens) return Error{tokens.error()};
    std::vector<Mailbox> mailboxes;
    if (auto parsed = Parser(*tokens, field).parse_list(groups, mailboxes); !parsed) return Error{parsed.error()};
    if (mailboxes.empty()) return make_error(std::string(field) + " has no address");
    return mailboxes;
}

bool is_dot_atom(std::string_view text) {
    if (text.empty() || text.front() == '.' || text.back() == '.') return false;
    if (text.find("..") != std::string_view::npos) return false;
    for (char c : text) {
        if (c != '.' && !is_atext(c)) return false;
    }
    return true;
}

}  // namespace

std::string Mailbox::address() const {
    if (is_dot_atom(local_part)) return local_part + "@" + domain;
    std::string quoted = "\"";
    for (char c : local_part) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\"@" + domain;
}

Result<Mailbox> parse_single_mailbox(std::string_view field_value) {
    auto mailboxes = parse_addresses(field_value, Groups::refuse, "From");
    if (!mailboxes) return Error{mailboxes.error()};
    if (mailboxes->size() != 1) {
        return make_error("From has " + std::to_string(mailboxes->size()) + " addresses; exactly one is required");
    }
    return std::move(mailboxes->front());
}

Result<std::vector<Mailbox>> parse_address_list(std::string_view field_value) {
    return parse_addresses(field_value, Groups::flatten, "address list");
}

bool is_valid_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > 253) return false;
    std::size_t label_start = 0;
    for (std::size_t pos = 0; pos <= domain.size(); ++pos) {
        if (pos < domain.size() && domain[pos] != '.') {
            const char c = domain[pos];
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ok) return false;
            continue;
        }
        const std::size_t length = pos - label_start;
        if (length == 0 || length > 63) return false;
        if (domain[label_start] == '-' || domain[pos - 1] == '-') return false;
        label_start = pos + 1;
    }
    return true;
}

}  // namespace tenantmail
