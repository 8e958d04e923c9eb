// seven_bit.h — a message body made fit for a detached S/MIME signature
// (RFC 8551 3.1): read with GMime from the top-level Content-Type and
// Content-Transfer-Encoding, every leaf part whose encoded bytes are not
// already clean 7-bit (8bit, binary, NUL bytes, bare CR or LF, lines over
// 76 octets, trailing white space, which relays re-encode, wrap or strip)
// is encoded again: text/* as quoted-printable, anything else as base64.
// Clean parts keep their bytes; attached messages (message/rfc822) are
// walked too; a preamble or epilogue that is not clean is dropped (readers
// never show it); part header fields with raw 8-bit octets (UTF-8 file
// names) are encoded again, RFC 2047 and RFC 2231. The result is one MIME entity (its Content-* fields, an
// empty line, its body) in CRLF form, checked to be 7-bit with lines of at
// most 998 octets; what cannot be made so (a multipart without boundary,
// nesting over 64 deep, an x-uuencode part) is an error,
// never a silently broken signature or lost content. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail::milter {

// content_type, transfer_encoding: the top-level field values as received
// ("" when absent); body: the message body (CRLF lines).
Result<std::string> seven_bit_entity(std::string_view content_type, std::string_view transfer_encoding,
                                     std::string_view body);

// Whether bytes are canonical 7-bit MIME: octets 1-127, CR only before LF
// and LF only after CR, lines of at most max_line octets.
bool is_clean_seven_bit(std::string_view bytes, std::size_t max_line);

}  // namespace tenantmail::milter
