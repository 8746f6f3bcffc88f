// current_user_id() and current_organization_id(): who the caller is (SPEC.md, "Identity
// and access"). A PostgREST-style gateway switches to one of its client roles (anon,
// authenticated) and puts the JWT's claims in the transaction-local setting
// request.jwt.claims. Any client can set any request.* setting, so the claims are believed
// only when current_user is one of session_persist.jwt_roles (superuser-set); every other
// role is identified by its name, whatever it sets.
#include "pg.hpp"

#include "guard.hpp"
#include "identity.hpp"
#include "settings.hpp"

extern "C" {
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/varlena.h"
}

namespace {

// Whether current_user is a gateway role, cached per (role, value of jwt_roles): policies
// call the identity functions once per statement, and saves once per call.
struct JwtRoleCache {
    Oid user = InvalidOid;
    uint64_t generation = 0;
    bool is_jwt_role = false;
};
JwtRoleCache jwt_role_cache;
bool role_callback_registered = false;

// A role renamed, dropped or created may change the answer for the same OID.
void roles_changed(Datum, int, uint32) {
    jwt_role_cache.user = InvalidOid;
}

bool current_user_is_jwt_role() {
    if (!role_callback_registered) {
        CacheRegisterSyscacheCallback(AUTHOID, roles_changed, (Datum)0);
        role_callback_registered = true;
    }
    Oid user = GetUserId();
    if (jwt_role_cache.user == user &&
        jwt_role_cache.generation == sp::settings::jwt_roles_generation)
        return jwt_role_cache.is_jwt_role;
    bool found = false;
    const char *roles = sp::settings::jwt_roles;
    if (roles && roles[0] != '\0') {
        char *names = pstrdup(roles);
        List *list = nullptr;
        // The setting's check hook refused anything that does not split.
        if (SplitIdentifierString(names, ',', &list)) {
            const char *me = GetUserNameFromId(user, false);
            ListCell *cell;
            foreach (cell, list)
                if (strcmp(static_cast<const char *>(lfirst(cell)), me) == 0)
                    found = true;
        }
        list_free(list);
        pfree(names);
    }
    jwt_role_cache = {user, sp::settings::jwt_roles_generation, found};
    return found;
}

// The claims setting as PostgREST leaves it: NULL when never set, '' after its transaction.
const char *claims_setting() {
    const char *claims = GetConfigOption("request.jwt.claims", true, false);
    return (claims && claims[0] != '\0') ? claims : nullptr;
}

// Parsing the claims once per distinct value: policies call these once per statement, but a
// statement may call them through several policies.
struct ParsedClaims {
    char *text;
    Jsonb *claims;
};
ParsedClaims parsed;

Jsonb *claims_jsonb(const char *claims) {
    if (parsed.text && strcmp(parsed.text, claims) == 0)
        return parsed.claims;
    Datum value = DirectFunctionCall1(jsonb_in, CStringGetDatum(claims));
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    Jsonb *copy = DatumGetJsonbPCopy(value);
    char *text = pstrdup(claims);
    MemoryContextSwitchTo(old);
    if (parsed.text) {
        pfree(parsed.text);
        pfree(parsed.claims);
    }
    parsed.text = text;
    parsed.claims = copy;
    return copy;
}

// The text of a string or number member `key` of an object container, or NULL.
text *member_text(JsonbContainer *container, const char *key) {
    if (!JsonContainerIsObject(container))
        return nullptr;
    JsonbValue found;
    if (!getKeyJsonValueFromContainer(container, key, strlen(key), &found))
        return nullptr;
    if (found.type == jbvString)
        return found.val.string.len > 0
                   ? cstring_to_text_with_len(found.val.string.val, found.val.string.len)
                   : nullptr;
    if (found.type == jbvNumeric)
        return cstring_to_text(
            DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(found.val.numeric))));
    return nullptr;
}

Datum text_or_null(FunctionCallInfo fcinfo, text *value) {
    if (!value)
        PG_RETURN_NULL();
    PG_RETURN_TEXT_P(value);
}

} // namespace

bool sp::caller_is_jwt_role() {
    return current_user_is_jwt_role();
}

text *sp::caller_user_id() {
    if (!current_user_is_jwt_role())
        return cstring_to_text(GetUserNameFromId(GetUserId(), false));
    // A gateway role: the JWT's sub, or anonymous (NULL). Never the role's own name, which
    // every anonymous request would share.
    if (const char *claims = claims_setting())
        return member_text(&claims_jsonb(claims)->root, "sub");
    const char *legacy_sub = GetConfigOption("request.jwt.claim.sub", true, false);
    if (legacy_sub && legacy_sub[0] != '\0')
        return cstring_to_text(legacy_sub);
    return nullptr;
}

// The JWT's sub for a gateway role (NULL: anonymous); the role name for every other role.
SP_FUNCTION(sp_current_user_id) {
    return text_or_null(fcinfo, sp::caller_user_id());
}

// For a gateway role, the JWT's org_id (or app_metadata.org_id); else (and when the JWT has
// none) session_persist.organization_id; NULL for a caller with no identity, who sees public
// sessions only.
text *sp::caller_organization_id() {
    if (!sp::caller_user_id())
        return nullptr;
    const char *claims = current_user_is_jwt_role() ? claims_setting() : nullptr;
    if (claims) {
        JsonbContainer *root = &claims_jsonb(claims)->root;
        if (text *org = member_text(root, "org_id"))
            return org;
        JsonbValue app_metadata;
        if (JsonContainerIsObject(root) &&
            getKeyJsonValueFromContainer(root, "app_metadata", strlen("app_metadata"),
                                         &app_metadata) &&
            app_metadata.type == jbvBinary)
            if (text *org = member_text(app_metadata.val.binary.data, "org_id"))
                return org;
    }
    const char *setting = sp::settings::organization_id;
    if (setting && setting[0] != '\0')
        return cstring_to_text(setting);
    return nullptr;
}

SP_FUNCTION(sp_current_organization_id) {
    return text_or_null(fcinfo, sp::caller_organization_id());
}
