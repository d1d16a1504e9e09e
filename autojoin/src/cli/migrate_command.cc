#include "cli/migrate_command.h"

#include <poll.h>

#include <chrono>

#include "api/api_protocol.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/migration_watch.h"

namespace clusterlive::cli {
namespace {

using Clock = std::chrono::steady_clock;

int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

/// Prints how the wait ended; returns the exit code.
int finish(const MigrationStep& step, const api::JobView& job, bool as_json, CliIo& io) {
  if (as_json) print_json(io.out, api::job_result(job));
  if (step.kind == MigrationStep::Kind::committed) {
    if (!as_json) io.out << step.message << "\n";
    return kExitOk;
  }
  io.err << step.message << "\n";
  return kExitFailed;
}

}  // namespace

int migrate_command(const JobCommand& command, api::Client& client, CliIo& io) {
  api::Reply<api::JobView> started = client.migrate_job({command.job_id, command.target});
  if (!started.value) return report_failed_call(started.call, "migrate", command.as_json, io);
  api::JobView job = std::move(*started.value);

  if (command.no_wait) {
    if (command.as_json) {
      print_json(io.out, started.call.response.result);
    } else {
      bool named = job.migration && !job.migration->target.empty();
      io.out << terminal_safe(job.id) << " migrating to "
             << terminal_safe(named ? job.migration->target : command.target) << "\n";
    }
    return kExitOk;
  }

  // Looks every io.poll_interval_ms; an interrupt ends clusterlive and leaves the migration
  // to itself. While clusterlived cannot be reached, keeps trying for kJobContactGiveUpMs.
  const Clock::time_point begun = Clock::now();
  MigrationWatch watch(job, command.target);
  bool contact_lost = false;
  Clock::time_point contact_lost_at{};
  for (;;) {
    MigrationStep step = watch.look(job, elapsed_ms(begun));
    if (!step.progress.empty()) io.err << step.progress << "\n";
    if (step.done()) return finish(step, job, command.as_json, io);

    poll(nullptr, 0, io.poll_interval_ms);
    api::Reply<api::JobView> reply = client.job(job.id);
    if (reply.value) {
      if (contact_lost) io.err << "clusterlive: clusterlived answers again\n";
      contact_lost = false;
      job = std::move(*reply.value);
      continue;
    }
    const api::CallResult& call = reply.call;
    if (call.status != api::CallStatus::not_running &&
        call.status != api::CallStatus::unreachable) {
      report_failed_call(call, "job", false, io);
      return kExitFailed;
    }
    if (!contact_lost) {
      contact_lost = true;
      contact_lost_at = Clock::now();
      io.err << "clusterlive: " << terminal_safe(call.message) << "; trying again for "
             << kJobContactGiveUpMs / 1000 << " s\n";
    } else if (elapsed_ms(contact_lost_at) > kJobContactGiveUpMs) {
      io.err << "clusterlive: gave up: clusterlived did not come back; the migration of "
             << terminal_safe(job.id) << " may still be under way\n";
      return kExitFailed;
    }
  }
}

}  // namespace clusterlive::cli
