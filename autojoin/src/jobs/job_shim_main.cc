// clusterlive-job: started by clusterlived, one per job. Not for direct use.
//   clusterlive-job --spool DIR --pid-file FILE --uid U --gid G --cwd DIR --node ID -- CMD [ARGS...]
#include <CLI/CLI.hpp>

#include "jobs/job_shim.h"

int main(int argc, char** argv) {
  clusterlive::ShimOptions options;
  CLI::App app{"clusterlive-job: runs one clusterlive job (started by clusterlived)"};
  app.add_option("--spool", options.spool, "the job's spool directory")->required();
  app.add_option("--pid-file", options.pid_file, "where to write the job's pid")->required();
  app.add_option("--uid", options.uid, "user to run the job as")->required();
  app.add_option("--gid", options.gid, "primary group of the job")->required();
  app.add_option("--cwd", options.cwd, "directory to start the job in")->required();
  app.add_option("--node", options.node,
                 "this node's id: the end is recorded only while the job's record names it");
  app.add_option("command", options.argv, "the command and its arguments")->required();
  app.allow_extras(false);
  CLI11_PARSE(app, argc, argv);
  return clusterlive::run_shim(options);
}
