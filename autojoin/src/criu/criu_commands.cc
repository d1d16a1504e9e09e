#include "criu/criu_commands.h"

namespace clusterlive::criu {
namespace {

// The options every request carries: its own log, at the most detailed level. The path is
// absolute: CRIU resolves a relative one against its work directory (the images directory).
void add_log(std::vector<std::string>& argv, const std::string& attempt_dir,
             std::string_view request, const ImageSet& set) {
  argv.insert(argv.end(),
              {"-o", log_path(attempt_dir, request, set), "-v" + std::to_string(kLogLevel)});
}

// Images directory, and the parent set when there is one. CRIU resolves --prev-images-dir
// against -D and links it as <dir>/parent, which a later dump and the restore follow.
void add_images(std::vector<std::string>& argv, const std::string& attempt_dir,
                const ImageSet& set) {
  argv.insert(argv.end(), {"-D", images_dir(attempt_dir, set)});
  if (set.parent_round() > 0) {
    argv.insert(argv.end(), {"--prev-images-dir", "../" + std::to_string(set.parent_round())});
  }
}

std::vector<std::string> dump_like(std::string_view verb, const DumpRequest& request) {
  std::vector<std::string> argv{std::string(kCriuProgram), std::string(verb)};
  // The job's init: CRIU dumps it and every descendant (the whole PID namespace).
  argv.insert(argv.end(), {"-t", std::to_string(request.pid)});
  add_images(argv, request.attempt_dir, request.set);
  // Clear the soft-dirty bits after reading the memory, so the next set sends only what the
  // job dirties from now on. Also needed on the final dump with a parent: CRIU skips a page
  // as "in parent" only when tracking is on (without it every page is sent again).
  if (!request.set.final_dump || request.set.parent_round() > 0) {
    argv.emplace_back("--track-mem");
  }
  // Pages go to the target's page server over the mesh, not into local files.
  argv.insert(argv.end(), {"--page-server", "--address", request.address, "--port",
                           std::to_string(request.port)});
  return argv;
}

}  // namespace

std::string ImageSet::name() const { return final_dump ? "final" : std::to_string(round); }

uint32_t ImageSet::parent_round() const {
  if (final_dump) return round;
  return round > 0 ? round - 1 : 0;
}

std::string images_dir(const std::string& attempt_dir, const ImageSet& set) {
  return attempt_dir + "/" + set.name();
}

std::string log_path(const std::string& attempt_dir, std::string_view request,
                     const ImageSet& set) {
  return attempt_dir + "/" + std::string(request) + "-" + set.name() + ".log";
}

std::vector<std::string> page_server_command(const PageServerRequest& request) {
  std::vector<std::string> argv{std::string(kCriuProgram), "page-server"};
  add_images(argv, request.attempt_dir, request.set);
  // A page sent again in this set replaces its copy in the parent sets: CRIU punches the old
  // one out of the parent's pages file, so the images of all rounds together stay about the
  // job's size. Without it every round adds what the job dirtied, and a 1 GiB job dirtying
  // 32 MiB/s filled a 3.5 GiB live node's RAM-backed image space in round 2.
  if (request.set.parent_round() > 0) argv.emplace_back("--auto-dedup");
  // Listen on the mesh address only: only authenticated members can reach it.
  argv.insert(argv.end(), {"--address", request.address, "--port", std::to_string(request.port)});
  if (request.status_fd >= 0) {
    argv.insert(argv.end(), {"--status-fd", std::to_string(request.status_fd)});
  }
  add_log(argv, request.attempt_dir, "page-server", request.set);
  return argv;
}

std::vector<std::string> pre_dump_command(const DumpRequest& request) {
  std::vector<std::string> argv = dump_like("pre-dump", request);
  add_log(argv, request.attempt_dir, "pre-dump", request.set);
  return argv;
}

std::vector<std::string> dump_command(const DumpRequest& request) {
  std::vector<std::string> argv = dump_like("dump", request);
  // Keep the dumped job here, stopped, instead of killing it: until the commit the abort
  // path is a plain SIGCONT (resume_source), and after it a SIGKILL (kill_source_copy).
  argv.emplace_back("--leave-stopped");
  add_log(argv, request.attempt_dir, "dump", request.set);
  return argv;
}

std::vector<std::string> restore_command(const RestoreRequest& request) {
  ImageSet final_set = ImageSet::final_after(0);  // the directory is "final" whatever the parent
  std::vector<std::string> argv{std::string(kCriuProgram), "restore", "-D",
                                images_dir(request.attempt_dir, final_set)};
  // -d: criu exits once the tree is restored (a definite answer for the edge), leaving the
  // job's init orphaned, so it becomes the child of the nearest subreaper: the job's shim,
  // which started criu. --leave-stopped: the job stays stopped until the commit
  // (tell_target_to_resume sends SIGCONT); on an abort it is killed without having run.
  argv.insert(argv.end(), {"-d", "--leave-stopped"});
  // Where the restored init's PID is, for the shim and the daemon (it differs from the PID it
  // had on the source; inside its namespace it is 1 on both).
  argv.insert(argv.end(), {"--pidfile", request.pidfile});
  add_log(argv, request.attempt_dir, "restore", final_set);
  return argv;
}

std::vector<std::string> check_command() { return {std::string(kCriuProgram), "check"}; }

std::vector<std::string> check_precopy_command() {
  // Pre-copy needs the kernel's soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): without them
  // pre-dump refuses to run, and only a stop-and-copy (final dump without parent) works.
  return {std::string(kCriuProgram), "check", "--feature", "mem_dirty_track"};
}

}  // namespace clusterlive::criu
