// Who the caller is (SPEC.md, "Identity and access"); identity.cpp has the rules.
#pragma once

#include "pg.hpp"

namespace sp {

// current_user_id(): the JWT's sub, the role name without a JWT, NULL when anonymous.
text *caller_user_id();

} // namespace sp
