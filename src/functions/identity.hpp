// Who the caller is (SPEC.md, "Identity and access"); identity.cpp has the rules.
#pragma once

#include "pg.hpp"

namespace sp {

// current_user_id(): the JWT's sub, the role name without a JWT, NULL when anonymous.
text *caller_user_id();

// current_organization_id(): NULL when none.
text *caller_organization_id();

// Whether current_user is one of session_persist.jwt_roles (its claims are believed).
bool caller_is_jwt_role();

} // namespace sp
