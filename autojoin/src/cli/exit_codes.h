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
/// The command needs root, or the job is someone else's.
constexpr int kExitPermissionDenied = 4;

// `run` and `wait` exit with the job's status, so their own failures need a code of their own,
// as env(1) and `docker run` do.

/// run, wait: clusterlive itself failed (usage, daemon not running, refused), or the job was
/// lost. Every other code is the job's.
constexpr int kExitRunFailed = 125;
/// run, wait: a job killed by signal N ends them with kExitSignalBase + N, as a shell shows it.
constexpr int kExitSignalBase = 128;

}  // namespace clusterlive::cli
