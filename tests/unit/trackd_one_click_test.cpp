// trackd_one_click_test.cpp — the RFC 8058 One-Click POST body in both form
// encodings (trackd/one_click.h), and what is not one.
#include "trackd/one_click.h"

#include <gtest/gtest.h>

namespace tenantmail::trackd {
namespace {

constexpr std::string_view kForm = "application/x-www-form-urlencoded";

TEST(TrackdOneClick, UrlencodedBodyAsMailClientsSendIt) {
    EXPECT_TRUE(is_one_click_request(kForm, "List-Unsubscribe=One-Click"));
    EXPECT_TRUE(is_one_click_request("application/x-www-form-urlencoded; charset=UTF-8", "List-Unsubscribe=One-Click\r\n"));
}

TEST(TrackdOneClick, UrlencodedAmongOtherFieldsAndPercentEncoded) {
    EXPECT_TRUE(is_one_click_request(kForm, "a=1&List-Unsubscribe=One-Click&b=2"));
    EXPECT_TRUE(is_one_click_request(kForm, "List%2DUnsubscribe=One%2dClick"));
}

TEST(TrackdOneClick, OtherValuesNamesAndTypesAreRefused) {
    EXPECT_FALSE(is_one_click_request(kForm, "List-Unsubscribe=one-click"));
    EXPECT_FALSE(is_one_click_request(kForm, "List-Unsubscribe=One-Click-Now"));
    EXPECT_FALSE(is_one_click_request(kForm, "XList-Unsubscribe=One-Click"));
    EXPECT_FALSE(is_one_click_request(kForm, ""));
    EXPECT_FALSE(is_one_click_request("text/plain", "List-Unsubscribe=One-Click"));
    EXPECT_FALSE(is_one_click_request("", "List-Unsubscribe=One-Click"));
}

TEST(TrackdOneClick, MultipartFormDataPart) {
    const std::string body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"List-Unsubscribe\"\r\n"
        "\r\n"
        "One-Click\r\n"
        "--XyZ--\r\n";
    EXPECT_TRUE(is_one_click_request("multipart/form-data; boundary=XyZ", body));
    EXPECT_TRUE(is_one_click_request("multipart/form-data; boundary=\"XyZ\"", body));
    EXPECT_FALSE(is_one_click_request("multipart/form-data; boundary=Other", body));
    EXPECT_FALSE(is_one_click_request("multipart/form-data", body));
}

TEST(TrackdOneClick, MultipartAfterAnotherPart) {
    const std::string body =
        "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n";
    EXPECT_TRUE(is_one_click_request("multipart/form-data; boundary=b", body));
}

TEST(TrackdOneClick, MultipartWithTheWrongValueOrNameIsRefused) {
    EXPECT_FALSE(is_one_click_request("multipart/form-data; boundary=b",
                                      "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nNo\r\n--b--\r\n"));
    EXPECT_FALSE(is_one_click_request("multipart/form-data; boundary=b",
                                      "--b\r\nContent-Disposition: form-data; name=\"Other\"\r\n\r\nOne-Click\r\n--b--\r\n"));
}

}  // namespace
}  // namespace tenantmail::trackd
