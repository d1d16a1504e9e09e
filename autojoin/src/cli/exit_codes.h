// Exit codes of `clusterlive`, as documented in `clusterlive --help` and clusterlive(1).
#pragma once

namespace clusterlive::cli {

/// Done.
constexpr int kExitOk = 0;
/// clusterlived refused or failed the request (the reason is on stderr), or its answer was
/// not understood.
constexpr int kExitFailed = 1;
/// Bad command line, or a key file that cannot be read or is not a key.
constexpr int kExitUsage = 2;
/// clusterlived is not running, or cannot be reached (no answer, too busy).
constexpr int kExitUnreachable = 3;
/// The command needs root.
constexpr int kExitPermissionDenied = 4;

}  // namespace clusterlive::cli
