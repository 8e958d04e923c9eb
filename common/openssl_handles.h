// openssl_handles.h — the owners of the OpenSSL objects libtenantmail holds,
// each freed by OpenSSL's own function (common/c_handle.h).
#pragma once

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/c_handle.h"

namespace tenantmail {

using BioPtr = CHandle<BIO, BIO_free>;
using CmsContentInfoPtr = CHandle<CMS_ContentInfo, CMS_ContentInfo_free>;
using EvpMdPtr = CHandle<EVP_MD, EVP_MD_free>;
using EvpMdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using EvpPkeyPtr = CHandle<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = CHandle<X509, X509_free>;
using X509StorePtr = CHandle<X509_STORE, X509_STORE_free>;

}  // namespace tenantmail
