#include "cluster_setup.h"

#include <algorithm>
#include <cctype>

#include "core/cluster_secret.h"

namespace clusterlive::view {
namespace {

CliInvocation invocation(const PrivilegedCli& cli, std::vector<std::string> arguments) {
  CliInvocation run;
  run.program = cli.program;
  run.arguments = cli.prefix;
  run.arguments.insert(run.arguments.end(), arguments.begin(), arguments.end());
  return run;
}

/// pkexec's exit codes (pkexec(1)): the user closed the password dialog; not authorised, or
/// pkexec itself failed (no polkit agent in the session, for one).
constexpr int kPkexecDismissed = 126;
constexpr int kPkexecNotAuthorized = 127;

}  // namespace

CliInvocation create_invocation(const PrivilegedCli& cli) { return invocation(cli, {"create"}); }

CliInvocation key_show_invocation(const PrivilegedCli& cli) {
  return invocation(cli, {"key", "show"});
}

CliInvocation join_invocation(const PrivilegedCli& cli, const std::string& secret_hex) {
  CliInvocation run = invocation(cli, {"join", "-"});
  run.standard_input = secret_hex + "\n";
  return run;
}

TypedKey check_typed_key(std::string_view typed) {
  TypedKey key;
  std::string digits;
  for (char c : typed)
    if (!std::isspace(static_cast<unsigned char>(c))) digits.push_back(c);
  if (digits.empty()) {
    key.problem = "type or paste the cluster key";
    return key;
  }
  SecretParseResult parsed = ClusterSecret::parse(digits);
  std::fill(digits.begin(), digits.end(), '\0');
  if (!parsed.secret) {
    key.problem = "not a cluster key: " + parsed.error;
    return key;
  }
  key.secret_hex = parsed.secret->to_hex();
  key.cluster_id = parsed.secret->cluster_id();
  return key;
}

std::string group_key(std::string_view secret_hex) {
  std::string grouped;
  for (size_t i = 0; i < secret_hex.size(); ++i) {
    if (i > 0 && i % 8 == 0) grouped.push_back(' ');
    grouped.push_back(secret_hex[i]);
  }
  return grouped;
}

std::string describe_cli_failure(int exit_code, std::string_view standard_error) {
  if (exit_code == kPkexecDismissed) return "cancelled: the password was not given";
  std::string_view first_line = standard_error.substr(0, standard_error.find('\n'));
  if (exit_code == kPkexecNotAuthorized && first_line.empty())
    return "not allowed: this needs an administrator's password (pkexec)";
  if (first_line.empty()) return "clusterlive failed (exit status " + std::to_string(exit_code) + ")";
  return std::string(first_line);
}

}  // namespace clusterlive::view
