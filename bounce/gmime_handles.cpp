// gmime_handles.cpp — GMime's one-time initialisation (see gmime_handles.h).
#include "bounce/gmime_handles.h"

#include <mutex>

namespace tenantmail::bounce {

void ensure_gmime_initialised() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

}  // namespace tenantmail::bounce
