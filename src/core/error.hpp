// sp::Error: how the pure C++ core reports a refusal. It carries the SQLSTATE that the
// entry-point guard (guard.hpp) raises once the C++ frames are gone. No PostgreSQL here.
#pragma once

#include <stdexcept>
#include <string>

namespace sp {

class Error : public std::runtime_error {
  public:
    Error(const char *sqlstate, const std::string &message, std::string detail = {},
          std::string hint = {})
        : std::runtime_error(message), detail_(std::move(detail)), hint_(std::move(hint)) {
        for (int i = 0; i < 5; ++i)
            sqlstate_[i] = sqlstate[i];
        sqlstate_[5] = '\0';
    }
    const char *sqlstate() const noexcept { return sqlstate_; }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }

  private:
    char sqlstate_[6];
    std::string detail_;
    std::string hint_;
};

// SQLSTATEs of SPEC.md's error table, spelled as the five characters PostgreSQL uses.
namespace sqlstate {
constexpr const char *not_found = "P0002";
constexpr const char *insufficient_privilege = "42501";
constexpr const char *serialization_failure = "40001";
constexpr const char *null_value_not_allowed = "22004";
constexpr const char *invalid_parameter_value = "22023";
constexpr const char *program_limit_exceeded = "54000";
constexpr const char *data_corrupted = "XX001";
constexpr const char *internal_error = "XX000";
constexpr const char *feature_not_supported = "0A000";
} // namespace sqlstate

} // namespace sp
