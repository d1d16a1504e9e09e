// Creating or joining a cluster from the desktop: the commands clusterview runs for it and
// how it reads what they say. `create`, `join` and `key show` need root, so clusterview runs
// the `clusterlive` CLI through pkexec (polkit asks for the password, or a rule lets the live
// user through) instead of talking to the daemon itself. The key travels on the command's
// standard input, never on its command line (which every user can read in /proc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterlive::view {

/// How the root-only commands are run: `program` with `prefix` before the CLI's own
/// arguments. Tests put a stand-in script here.
struct PrivilegedCli {
  std::string program = "pkexec";
  std::vector<std::string> prefix = {"/usr/bin/clusterlive"};
};

/// One run of the CLI: what to start and what to write to its standard input.
struct CliInvocation {
  std::string program;
  std::vector<std::string> arguments;
  std::string standard_input;  ///< empty: none (closed at once)
};

CliInvocation create_invocation(const PrivilegedCli& cli);
CliInvocation key_show_invocation(const PrivilegedCli& cli);
/// `join -` with `secret_hex` and a newline on standard input.
CliInvocation join_invocation(const PrivilegedCli& cli, const std::string& secret_hex);

/// A key as typed or pasted: spaces, tabs and newlines anywhere are dropped (the dialog
/// shows keys in groups of eight), then it must be exactly 64 hex digits.
struct TypedKey {
  std::optional<std::string> secret_hex;  ///< 64 lower-case hex digits when it is a key
  std::string cluster_id;                 ///< the cluster it opens (public), when it is a key
  std::string problem;                    ///< why it is not a key, never quoting it
};
TypedKey check_typed_key(std::string_view typed);

/// `secret_hex` in groups of eight digits, easier to copy by hand to another PC.
std::string group_key(std::string_view secret_hex);

/// What went wrong with a run that exited with `exit_code`, for a person: pkexec's own codes
/// (126: the password dialog was dismissed, 127: not authorised or pkexec failed) and else the
/// CLI's first line on standard error.
std::string describe_cli_failure(int exit_code, std::string_view standard_error);

}  // namespace clusterlive::view
