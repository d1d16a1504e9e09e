// clusterlive-migrate: the two halves of a migration, started by clusterlived. Not for direct
// use.
//   clusterlive-migrate source --job ID --node SELF --target NODE --address ADDR --port P
//                              --init PID --progress FILE
//   clusterlive-migrate target --node SELF --pid-dir DIR   (the connection on fd 3)
//   clusterlive-migrate target-recover --job ID --node SELF --pid-dir DIR
//   clusterlive-migrate recover --job ID --node SELF --init PID --progress FILE
//   clusterlive-migrate relay --address ADDR --port P --command kill|migrate --job ID
//                             [--target NODE --attempt N --jobs-root R]
#include <CLI/CLI.hpp>
#include <csignal>

#include "migrate/migration_recovery.h"
#include "migrate/migration_source.h"
#include "migrate/migration_target.h"
#include "migrate/target_recovery.h"
#include "migrate/relay.h"

int main(int argc, char** argv) {
  CLI::App app{"clusterlive-migrate: one side of a job's migration (started by clusterlived)"};
  app.require_subcommand(1);
  clusterlive::SourceOptions source;
  CLI::App* source_command = app.add_subcommand("source", "move a job of this node");
  source_command->add_option("--job", source.job)->required();
  source_command->add_option("--node", source.node)->required();
  source_command->add_option("--target", source.target)->required();
  source_command->add_option("--address", source.target_address)->required();
  source_command->add_option("--port", source.port)->required();
  source_command->add_option("--init", source.init)->required();
  source_command->add_option("--attempt", source.attempt);
  source_command->add_option("--progress", source.progress_path)->required();
  source_command->add_option("--jobs-root", source.jobs_root);
  source_command->add_option("--work-root", source.work_root);

  clusterlive::TargetOptions target;
  CLI::App* target_command = app.add_subcommand("target", "take a job from a source node");
  target_command->add_option("--node", target.node)->required();
  target_command->add_option("--pid-dir", target.pid_dir);
  target_command->add_option("--jobs-root", target.jobs_root);
  target_command->add_option("--work-root", target.work_root);
  target_command->add_option("--fd", target.connection_fd);
  target_command->add_option("--lock-dir", target.lock_dir);

  clusterlive::TargetRecoveryOptions target_recovery;
  CLI::App* target_recover_command = app.add_subcommand(
      "target-recover", "settle a migration to this node whose target worker died");
  target_recover_command->add_option("--job", target_recovery.job)->required();
  target_recover_command->add_option("--node", target_recovery.node)->required();
  target_recover_command->add_option("--pid-dir", target_recovery.pid_dir);
  target_recover_command->add_option("--jobs-root", target_recovery.jobs_root);
  target_recover_command->add_option("--work-root", target_recovery.work_root);
  target_recover_command->add_option("--lock-dir", target_recovery.lock_dir);

  clusterlive::RecoveryOptions recovery;
  CLI::App* recover_command =
      app.add_subcommand("recover", "finish a migration whose source worker died");
  recover_command->add_option("--job", recovery.job)->required();
  recover_command->add_option("--node", recovery.node)->required();
  recover_command->add_option("--init", recovery.init)->required();
  recover_command->add_option("--progress", recovery.progress_path)->required();
  recover_command->add_option("--jobs-root", recovery.jobs_root);
  recover_command->add_option("--work-root", recovery.work_root);

  std::string relay_address, relay_jobs_root = "/cluster/jobs";
  clusterlive::RelayRequest relay;
  uint16_t relay_port = 0;
  CLI::App* relay_command_app =
      app.add_subcommand("relay", "ask the node that runs a job to kill or move it");
  relay_command_app->add_option("--address", relay_address)->required();
  relay_command_app->add_option("--port", relay_port)->required();
  relay_command_app->add_option("--command", relay.command)->required();
  relay_command_app->add_option("--job", relay.job)->required();
  relay_command_app->add_option("--target", relay.target);
  relay_command_app->add_option("--attempt", relay.attempt);
  relay_command_app->add_option("--jobs-root", relay_jobs_root);
  CLI11_PARSE(app, argc, argv);
  if (*source_command) return clusterlive::run_migration_source(source);
  if (*recover_command || *target_recover_command) {
    // A restart of the daemon must not end a recovery half way (nor the job a target
    // recovery resumed and follows).
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    std::signal(SIGPIPE, SIG_IGN);
    if (*target_recover_command) return clusterlive::run_target_recovery(target_recovery);
    return clusterlive::run_migration_recovery(recovery);
  }
  if (*relay_command_app) {
    return clusterlive::run_relay(relay_address, relay_port, relay, relay_jobs_root);
  }
  return clusterlive::run_migration_target(target);
}
