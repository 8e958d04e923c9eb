#include "milter/seven_bit.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail::milter {
namespace {

// Every octet 7-bit, CRLF only, no line over 76 outside the part headers.
void expect_canonical(const std::string& entity) {
    EXPECT_TRUE(is_clean_seven_bit(entity, 998)) << entity.substr(0, 400);
    const std::size_t body = entity.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    EXPECT_TRUE(is_clean_seven_bit(entity.substr(body), 76)) << entity;
}

TEST(SevenBit, CleanSevenBitRejectsEightBitBareLineEndsNulAndLongLines) {
    EXPECT_TRUE(is_clean_seven_bit("abc\r\ndef\r\n", 76));
    EXPECT_FALSE(is_clean_seven_bit("abc\ndef", 76));
    EXPECT_FALSE(is_clean_seven_bit("abc\rdef", 76));
    EXPECT_FALSE(is_clean_seven_bit(std::string("a\0b", 3), 76));
    EXPECT_FALSE(is_clean_seven_bit("caf\xc3\xa9", 76));
    EXPECT_FALSE(is_clean_seven_bit(std::string(77, 'x'), 76));
    EXPECT_TRUE(is_clean_seven_bit(std::string(76, 'x'), 76));
}

TEST(SevenBit, PlainAsciiKeepsItsBytes) {
    auto entity = seven_bit_entity(" text/plain; charset=us-ascii", " 7bit", "Hello\r\nWorld\r\n");
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("\r\n\r\nHello\r\nWorld\r\n"), std::string::npos) << *entity;
}

TEST(SevenBit, EightBitUtf8BecomesQuotedPrintable) {
    auto entity = seven_bit_entity(" text/plain; charset=utf-8", " 8bit", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\r\n");
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("quoted-printable"), std::string::npos) << *entity;
    EXPECT_NE(entity->find("Gr=C3=BC=C3=9Fe aus K=C3=B6ln"), std::string::npos) << *entity;
    EXPECT_EQ(entity->find("=0D"), std::string::npos) << *entity;
}

TEST(SevenBit, MissingContentTypeIsPlainText) {
    auto entity = seven_bit_entity("", "", "caf\xc3\xa9\r\n");
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("caf=C3=A9"), std::string::npos) << *entity;
}

TEST(SevenBit, LineOf998OctetsIsWrappedWithSoftBreaks) {
    auto entity = seven_bit_entity(" text/plain", " 7bit", std::string(998, 'a') + "\r\n");
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("=\r\n"), std::string::npos);
}

TEST(SevenBit, TrailingWhiteSpaceIsProtected) {
    auto entity = seven_bit_entity(" text/plain", "", "trailing \r\nnext\r\n");
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("trailing=20"), std::string::npos) << *entity;
}

TEST(SevenBit, NulBytesInTextAreEncoded) {
    const std::string body("a\0b\r\n", 5);
    auto entity = seven_bit_entity(" text/plain", " 8bit", body);
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("a=00b"), std::string::npos) << *entity;
}

TEST(SevenBit, BinaryAttachmentBecomesBase64AndRoundTrips) {
    std::string binary;
    for (int i = 0; i < 600; ++i) binary.push_back(static_cast<char>(i % 256));
    const std::string body =
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "h\xc3\xa9llo\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
        "Content-Disposition: attachment; filename=\"x.bin\"\r\n\r\n" +
        binary + "\r\n--b1--\r\n";
    auto entity = seven_bit_entity(" multipart/mixed; boundary=\"b1\"", "", body);
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("Content-Transfer-Encoding: base64"), std::string::npos) << *entity;
    // The first 57 octets 0..56 as base64 (one 76-character line).
    EXPECT_NE(entity->find("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"),
              std::string::npos)
        << *entity;
}

TEST(SevenBit, NestedMultipartsAreConvertedAtEveryDepth) {
    const std::string body =
        "--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
        "--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9\r\n"
        "--inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>\xc3\xa9t\xc3\xa9</p>\r\n"
        "--inner--\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain; "
        "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nna\xc3\xafve\r\n--outer--\r\n";
    auto entity = seven_bit_entity(" multipart/mixed; boundary=outer", "", body);
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("=C3=A9t=C3=A9\r\n"), std::string::npos) << *entity;
    EXPECT_NE(entity->find("<p>=C3=A9t=C3=A9</p>"), std::string::npos) << *entity;
    EXPECT_NE(entity->find("na=C3=AFve"), std::string::npos) << *entity;
}

TEST(SevenBit, MultipartWithoutBoundaryIsRefusedRatherThanEmptied) {
    auto entity = seven_bit_entity(" multipart/mixed", "", "no parts here, just caf\xc3\xa9\r\n");
    ASSERT_FALSE(entity.ok());
    EXPECT_NE(entity.error().find("no boundary"), std::string::npos) << entity.error();
}

TEST(SevenBit, NestingPastTheBoundIsRefused) {
    std::string body;
    for (int depth = 0; depth < 80; ++depth) {
        body += "--b" + std::to_string(depth) + "\r\nContent-Type: multipart/mixed; boundary=b" + std::to_string(depth + 1) +
                "\r\n\r\n";
    }
    body += "--b80\r\nContent-Type: text/plain\r\n\r\ndeep\r\n";
    auto entity = seven_bit_entity(" multipart/mixed; boundary=b0", "", body);
    ASSERT_FALSE(entity.ok());
    EXPECT_NE(entity.error().find("nested"), std::string::npos) << entity.error();
}

TEST(SevenBit, Base64WithOverlongLinesIsWrappedAgain) {
    const std::string body = std::string(900, 'A') + "\r\n";
    auto entity = seven_bit_entity(" application/octet-stream", " base64", body);
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
}

TEST(SevenBit, EightBitPreambleIsDropped) {
    const std::string body = "pr\xc3\xa9" "amble\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
    auto entity = seven_bit_entity(" multipart/mixed; boundary=b", "", body);
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_EQ(entity->find("amble"), std::string::npos) << *entity;
}

TEST(SevenBit, EightBitInPartHeadersIsEncoded) {
    const std::string body =
        "--b\r\nContent-Type: application/pdf; name=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\n"
        "Content-Disposition: attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\n"
        "Content-Description: Lebenslauf f\xc3\xbcr Bewerbung\r\n\r\nxx\r\n--b--\r\n";
    auto entity = seven_bit_entity(" multipart/mixed; boundary=b", "", body);
    ASSERT_TRUE(entity.ok()) << entity.error();
    expect_canonical(*entity);
    EXPECT_NE(entity->find("filename*="), std::string::npos) << *entity;  // RFC 2231
    EXPECT_NE(entity->find(" name*="), std::string::npos) << *entity;
    EXPECT_NE(entity->find("=?UTF-8?"), std::string::npos) << *entity;  // RFC 2047
}

TEST(SevenBit, EightBitPartHeadersThatAreNotUtf8AreRefused) {
    // Latin-1 and stray 0xFF octets: no charset to label them with (and the
    // input the seven_bit fuzz target found looping inside GMime).
    const std::string body =
        "--b\r\nContent-Type: application/pdf; name=\"r\xe9sum\xe9\xff\xff.pdf\"\r\n\r\nxx\r\n--b--\r\n";
    auto entity = seven_bit_entity(" multipart/mixed; boundary=b", "", body);
    ASSERT_FALSE(entity.ok());
    EXPECT_EQ(entity.error(), "a part's Content-Type field has 8-bit octets that are not UTF-8");
}

}  // namespace
}  // namespace tenantmail::milter
