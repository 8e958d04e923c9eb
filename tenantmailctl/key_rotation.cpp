#include "tenantmailctl/key_rotation.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "tenantmailctl/atomic_write.h"
#include "tenantmailctl/tenants_edit.h"

namespace tenantmail::ctl {
namespace {

// One tenants.conf, read and understood, ready to be edited.
struct TenantsFile {
    std::string path;
    std::string text;
    TenantRegistry registry;
    const Tenant* tenant = nullptr;
    std::vector<RotationMark> marks;
};

Result<TenantsFile> open_tenants(const std::string& path, std::string_view tenant_id) {
    TenantsFile file;
    file.path = path;
    auto text = read_text_file(path);
    if (!text) return Error{text.error()};
    file.text = std::move(*text);
    auto registry = TenantRegistry::parse(file.text, path);
    if (!registry) return Error{registry.error()};
    file.registry = std::move(*registry);
    file.tenant = file.registry.find(tenant_id);
    if (file.tenant == nullptr) return make_error("no tenant '" + std::string(tenant_id) + "' in " + path);
    auto marks = rotation_marks(file.text, tenant_id, path);
    if (!marks) return Error{marks.error()};
    file.marks = std::move(*marks);
    return file;
}

// The last check before anything is written: the daemons must be able to
// load what we are about to install.
Result<void> save_tenants(const TenantsFile& file, const std::string& text) {
    if (auto parsed = TenantRegistry::parse(text, file.path); !parsed) {
        return make_error("refusing to write " + file.path + ", the result would not load: " + parsed.error());
    }
    return replace_file_atomically(file.path, text);
}

const std::string& active_selector(const Tenant& tenant, KeySlot slot) {
    return slot == KeySlot::rsa ? tenant.selector : tenant.ed25519_selector;
}
const std::string& active_key(const Tenant& tenant, KeySlot slot) {
    return slot == KeySlot::rsa ? tenant.key_path : tenant.ed25519_key_path;
}

bool selector_in_use(const Tenant& tenant, const std::vector<RotationMark>& marks, std::string_view selector) {
    if (selector == tenant.selector || selector == tenant.ed25519_selector) return true;
    for (const RotationMark& mark : marks) {
        if (mark.selector == selector) return true;
    }
    return false;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string slot_name(KeySlot slot) { return slot == KeySlot::rsa ? "RSA" : "Ed25519"; }

// Removes a key file; a file already gone is fine.
std::string remove_key_file(const std::string& path) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) return "";
    return "could not delete " + path + " (" + std::strerror(errno) + "); delete it by hand";
}

Result<Retired> drop_mark(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot,
                          RotationMark::State state) {
    auto file = open_tenants(tenants_file, tenant_id);
    if (!file) return Error{file.error()};
    const RotationMark* mark = find_mark(file->marks, state, slot);
    if (mark == nullptr) {
        return make_error("tenant " + std::string(tenant_id) + " has no " +
                          (state == RotationMark::State::pending ? "pending" : "retiring") + " " + slot_name(slot) +
                          " key");
    }
    Retired retired{*mark, ""};
    std::vector<RotationMark> kept;
    for (const RotationMark& other : file->marks) {
        if (&other != mark) kept.push_back(other);
    }
    auto text = with_rotation_marks(file->text, tenant_id, kept);
    if (!text) return Error{text.error()};
    if (auto saved = save_tenants(*file, *text); !saved) return Error{saved.error()};
    retired.warning = remove_key_file(retired.mark.key_path);
    return retired;
}

}  // namespace

std::string today_utc() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
    return text;
}

std::string default_selector(const Tenant& tenant, const std::vector<RotationMark>& marks, std::string_view date) {
    std::string base = "tm";
    for (const char c : date) {
        if (c != '-') base += c;
    }
    std::string selector = base;
    for (char suffix = 'b'; selector_in_use(tenant, marks, selector) && suffix <= 'z'; ++suffix) {
        selector = base + suffix;
    }
    return selector;
}

Result<RotationMark> start_rotation(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot,
                                    std::string selector, const NewKeyOptions& key_options) {
    auto file = open_tenants(tenants_file, tenant_id);
    if (!file) return Error{file.error()};
    const Tenant& tenant = *file->tenant;
    const std::string id(tenant_id);
    if (active_key(tenant, slot).empty()) {
        return make_error("tenant " + id + " has no " + slot_name(slot) +
                          " key to rotate; create its first one with tenantmailctl keygen " + id + " --selector S");
    }
    if (const RotationMark* pending = find_mark(file->marks, RotationMark::State::pending, slot)) {
        return make_error("tenant " + id + " already has a pending " + slot_name(slot) + " key (selector " +
                          pending->selector + "); activate it (tenantmailctl rotate " + id +
                          " --activate) or drop it (--cancel) first");
    }
    if (const RotationMark* retiring = find_mark(file->marks, RotationMark::State::retiring, slot)) {
        return make_error("tenant " + id + " still lists the previous " + slot_name(slot) + " key (selector " +
                          retiring->selector + "); run tenantmailctl retire " + id + " first");
    }
    const std::string date = today_utc();
    if (selector.empty()) selector = default_selector(tenant, file->marks, date);
    if (!valid_new_selector(selector)) {
        return make_error("invalid selector \"" + selector + "\" (letters, digits, inner '-', dot-separated)");
    }
    if (selector_in_use(tenant, file->marks, selector)) {
        return make_error("selector " + selector + " is already used by tenant " + id + "; choose another");
    }
    RotationMark mark;
    mark.state = RotationMark::State::pending;
    mark.slot = slot;
    mark.selector = selector;
    mark.date = date;
    mark.key_path = directory_of(active_key(tenant, slot)) + "/" + id + "." + selector + ".pem";

    // Validate the edit before creating the key, so a selector the tenants
    // file would refuse leaves nothing behind.
    std::vector<RotationMark> marks = file->marks;
    marks.push_back(mark);
    auto text = with_rotation_marks(file->text, tenant_id, marks);
    if (!text) return Error{text.error()};
    auto key = DkimKey::generate(key_options.algorithm, key_options.rsa_bits);
    if (!key) return Error{key.error()};
    if (auto written = key->write_private_pem(mark.key_path); !written) return Error{written.error()};
    if (auto saved = save_tenants(*file, *text); !saved) {
        remove_key_file(mark.key_path);
        return Error{saved.error()};
    }
    return mark;
}

Result<RotationMark> activate_rotation(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot) {
    auto file = open_tenants(tenants_file, tenant_id);
    if (!file) return Error{file.error()};
    const Tenant& tenant = *file->tenant;
    const RotationMark* pending = find_mark(file->marks, RotationMark::State::pending, slot);
    if (pending == nullptr) {
        return make_error("tenant " + std::string(tenant_id) + " has no pending " + slot_name(slot) +
                          " key; start a rotation with tenantmailctl rotate " + std::string(tenant_id));
    }
    KeyPolicy policy;
    policy.allow_rsa1024 = tenant.allow_rsa1024;
    if (auto key = DkimKey::load_file(pending->key_path, policy); !key) {
        return make_error("cannot activate: " + key.error());
    }
    RotationMark retiring;
    retiring.state = RotationMark::State::retiring;
    retiring.slot = slot;
    retiring.selector = active_selector(tenant, slot);
    retiring.date = today_utc();
    retiring.key_path = active_key(tenant, slot);

    std::vector<RotationMark> marks;
    for (const RotationMark& mark : file->marks) {
        if (&mark != pending) marks.push_back(mark);
    }
    marks.push_back(retiring);
    auto text = set_tenant_values(
        file->text, tenant_id,
        {{std::string(selector_field(slot)), pending->selector}, {std::string(key_field(slot)), pending->key_path}});
    if (!text) return Error{text.error()};
    auto with_marks = with_rotation_marks(*text, tenant_id, marks);
    if (!with_marks) return Error{with_marks.error()};
    if (auto saved = save_tenants(*file, *with_marks); !saved) return Error{saved.error()};
    return retiring;
}

Result<Retired> retire_key(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot) {
    return drop_mark(tenants_file, tenant_id, slot, RotationMark::State::retiring);
}

Result<Retired> cancel_rotation(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot) {
    return drop_mark(tenants_file, tenant_id, slot, RotationMark::State::pending);
}

Result<std::string> assign_tenant_key(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot,
                                      const std::string& selector, const DkimKey& key) {
    auto file = open_tenants(tenants_file, tenant_id);
    if (!file) return Error{file.error()};
    const std::string id(tenant_id);
    if (!active_key(*file->tenant, slot).empty()) {
        return make_error("tenant " + id + " already has a " + slot_name(slot) + " key");
    }
    if (!valid_new_selector(selector)) {
        return make_error("invalid selector \"" + selector + "\" (letters, digits, inner '-', dot-separated)");
    }
    const std::string keys_dir = directory_of(tenants_file) + "/keys";
    std::error_code error;
    if (!std::filesystem::is_directory(keys_dir, error)) {
        return make_error("key directory " + keys_dir +
                          " does not exist; create it (mode 0700 or 0750, readable by "
                          "the milter's user) or add " +
                          std::string(key_field(slot)) + " = PATH to [" + id + "]");
    }
    const std::string path = keys_dir + "/" + id + "." + selector + ".pem";
    auto text = set_tenant_values(
        file->text, tenant_id, {{std::string(selector_field(slot)), selector}, {std::string(key_field(slot)), path}});
    if (!text) return Error{text.error()};
    if (auto parsed = TenantRegistry::parse(*text, tenants_file); !parsed) {
        return make_error("cannot give tenant " + id + " a key: " + parsed.error());
    }
    // Key first: a milter reloading in between must find the file it is told about.
    if (auto written = key.write_private_pem(path); !written) return Error{written.error()};
    if (auto saved = save_tenants(*file, *text); !saved) {
        remove_key_file(path);
        return Error{saved.error()};
    }
    return path;
}

}  // namespace tenantmail::ctl
