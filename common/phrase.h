// phrase.h — a display name made into an RFC 5322 phrase (3.2.5) that any
// parser reads as one phrase of one mailbox, whatever the name contains: the
// text is never emitted raw. Printable US-ASCII words are quoted (backslash
// and quote escaped); words with 8-bit text are RFC 2047 encoded (UTF-8, Q
// encoding, encoded words of at most 75 characters); well-formed RFC 2047
// encoded words already in the name stay bare, as RFC 2047 5(3) allows them
// only outside quotes. Control characters, CR and LF count as spaces. Does
// not decode encoded words or check charsets. Pure; linear in the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tenantmail {

// The phrase for text; "" when text has nothing but whitespace. Adjacent
// words are separated by one space, so the result folds at any of them.
std::string make_phrase(std::string_view text);

// True for an RFC 2047 encoded word that may stand in a phrase (5(3)): at
// most 75 characters, a token charset, Q or B, and Q text limited to
// letters, digits and ! * + - / = _ (with = followed by two hex digits).
bool is_phrase_encoded_word(std::string_view word);

// The longest prefix of text of at most max_octets that does not end inside
// a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max_octets);

}  // namespace tenantmail
