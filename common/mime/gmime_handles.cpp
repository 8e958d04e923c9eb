// gmime_handles.cpp — GMime's one-time initialisation (see gmime_handles.h).
#include "common/mime/gmime_handles.h"

#include <mutex>

namespace tenantmail {

void ensure_gmime_initialised() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

}  // namespace tenantmail
