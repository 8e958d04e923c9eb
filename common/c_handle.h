// c_handle.h — one owner for every C library handle: a std::unique_ptr whose
// deleter is the library's own free function. Each library names its aliases
// once, beside its other wrappers:
//     using EvpMdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
// instead of a deleter struct written again in every file that holds one.
#pragma once

#include <memory>

namespace tenantmail {

template <auto Free>
struct FreeWith {
    template <typename T>
    void operator()(T* handle) const noexcept {
        Free(handle);
    }
};

template <typename T, auto Free>
using CHandle = std::unique_ptr<T, FreeWith<Free>>;

}  // namespace tenantmail
