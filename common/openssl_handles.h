// openssl_handles.h — the owners of the OpenSSL objects libtenantmail holds,
// each freed by OpenSSL's own function (common/c_handle.h).
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>

#include "common/c_handle.h"

namespace tenantmail {

using BioPtr = CHandle<BIO, BIO_free>;
using EvpMdPtr = CHandle<EVP_MD, EVP_MD_free>;
using EvpMdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using EvpPkeyPtr = CHandle<EVP_PKEY, EVP_PKEY_free>;

}  // namespace tenantmail
