// `clusterlive migrate JOB NODE|home`: asks clusterlived to move a job to another node, then,
// unless --no-wait, follows the migration until it ends (MigrationWatch decides what to say
// and when to stop; this file does the asking and the looking).
#pragma once

#include "api/api_client.h"
#include "cli/cli_app.h"
#include "cli/job_commands.h"

namespace clusterlive::cli {

/// Time allowed for migrate to answer, connect to answer, in ms: clusterlived answers once the
/// migration has started, after writing its prepared record on /cluster (which it allows
/// 10 s, kPrepareTimeoutMs), so a slow shared filesystem must not make us give up first.
constexpr int kMigrateTimeoutMs = 30'000;

/// Runs `migrate` for `command` (job_id, target, no_wait, as_json) through `client`. Returns
/// kExitOk when the job moved (or, with no_wait, its migration started); kExitFailed when
/// clusterlived refused, the migration failed, the job ended first, or the wait was given up;
/// exit_code_for() when clusterlived could not be reached; kExitPermissionDenied when the job
/// is someone else's.
int migrate_command(const JobCommand& command, api::Client& client, CliIo& io);

}  // namespace clusterlive::cli
