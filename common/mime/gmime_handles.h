// gmime_handles.h — RAII for the GLib/GMime objects the MIME readers use
// (bounce reports, the milter's tracking): every GObject we own is released
// by g_object_unref, every string GLib hands over by g_free, so no early
// return can leak one. Objects GMime lends (a multipart's child, a part's
// content) are plain pointers and never wrapped.
#pragma once

#include <gmime/gmime.h>

#include <memory>

namespace tenantmail {

struct GObjectUnref {
    void operator()(gpointer object) const {
        if (object != nullptr) g_object_unref(object);
    }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
    void operator()(gpointer memory) const { g_free(memory); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

// g_mime_init() once per process, on first use. Never shut down: the
// process is short-lived, and shutting down under objects still alive in
// another thread would be worse than the few bytes it frees.
void ensure_gmime_initialised();

}  // namespace tenantmail
