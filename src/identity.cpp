// current_user_id() and current_organization_id(): who the caller is (SPEC.md, "Identity
// and access"). A PostgREST-style gateway puts the JWT's claims in the transaction-local
// setting request.jwt.claims; plain SQL clients are identified by their database role.
#include "pg.hpp"

#include "guard.hpp"
#include "identity.hpp"
#include "settings.hpp"

namespace {

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

text *sp::caller_user_id() {
    if (const char *claims = claims_setting())
        return member_text(&claims_jsonb(claims)->root, "sub");
    const char *legacy_sub = GetConfigOption("request.jwt.claim.sub", true, false);
    if (legacy_sub && legacy_sub[0] != '\0')
        return cstring_to_text(legacy_sub);
    return cstring_to_text(GetUserNameFromId(GetUserId(), false));
}

// The JWT's sub; NULL for an anonymous request; the role name for plain SQL clients.
SP_FUNCTION(sp_current_user_id) {
    return text_or_null(fcinfo, sp::caller_user_id());
}

// The JWT's org_id (or app_metadata.org_id), else session_persist.organization_id; NULL for
// a caller with no identity (a JWT without sub), who sees public sessions only.
SP_FUNCTION(sp_current_organization_id) {
    if (!sp::caller_user_id())
        PG_RETURN_NULL();
    if (const char *claims = claims_setting()) {
        JsonbContainer *root = &claims_jsonb(claims)->root;
        if (text *org = member_text(root, "org_id"))
            PG_RETURN_TEXT_P(org);
        JsonbValue app_metadata;
        if (JsonContainerIsObject(root) &&
            getKeyJsonValueFromContainer(root, "app_metadata", strlen("app_metadata"),
                                         &app_metadata) &&
            app_metadata.type == jbvBinary)
            if (text *org = member_text(app_metadata.val.binary.data, "org_id"))
                PG_RETURN_TEXT_P(org);
    }
    const char *setting = sp::settings::organization_id;
    if (setting && setting[0] != '\0')
        PG_RETURN_TEXT_P(cstring_to_text(setting));
    PG_RETURN_NULL();
}
