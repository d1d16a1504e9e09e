// criu-lab-tool: the bridge between scripts/criu-lab and this directory's code, so the lab runs
// exactly the command lines the daemon will run and reads the figures with the same parser.
// Not installed.
//
//   criu-lab-tool page-server ATTEMPT_DIR round|final N ADDRESS PORT [STATUS_FD]
//   criu-lab-tool pre-dump PID ATTEMPT_DIR ROUND ADDRESS PORT
//   criu-lab-tool dump PID ATTEMPT_DIR LAST_ROUND ADDRESS PORT
//   criu-lab-tool restore ATTEMPT_DIR PIDFILE
//       print the argv, each argument followed by a NUL byte (bash: mapfile -d '')
//   criu-lab-tool stats FILE
//       print the figures of a stats-dump or stats-restore file as KEY=VALUE lines
// Exit: 0 ok, 1 unreadable statistics, 2 usage error.
#include <charconv>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "criu/criu_commands.h"
#include "criu/criu_stats.h"

namespace {

using namespace clusterlive::criu;

int usage() {
  std::cerr << "usage: criu-lab-tool page-server|pre-dump|dump|restore|stats ARGS... "
               "(see the source)\n";
  return 2;
}

template <typename Number>
bool number(const std::string& text, Number& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

int print_argv(const std::vector<std::string>& argv) {
  for (const std::string& arg : argv) std::cout << arg << '\0';
  return 0;
}

int print_stats(const std::string& path) {
  CriuStats stats = read_criu_stats(path);
  if (!stats.ok()) {
    std::cerr << "criu-lab-tool: " << stats.error << "\n";
    return 1;
  }
  if (stats.dump) {
    const DumpStats& d = *stats.dump;
    std::cout << "freezing_time_us=" << d.freezing_time_us
              << "\nfrozen_time_us=" << d.frozen_time_us
              << "\nmemdump_time_us=" << d.memdump_time_us
              << "\nmemwrite_time_us=" << d.memwrite_time_us
              << "\npages_scanned=" << d.pages_scanned
              << "\npages_skipped_parent=" << d.pages_skipped_parent
              << "\npages_written=" << d.pages_written << "\npages_lazy=" << d.pages_lazy
              << "\nsummary=" << describe(d) << "\n";
  }
  if (stats.restore) {
    const RestoreStats& r = *stats.restore;
    std::cout << "pages_compared=" << r.pages_compared
              << "\npages_skipped_cow=" << r.pages_skipped_cow
              << "\nforking_time_us=" << r.forking_time_us
              << "\nrestore_time_us=" << r.restore_time_us
              << "\npages_restored=" << r.pages_restored << "\nsummary=" << describe(r) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  const std::string& verb = args[0];
  if (verb == "stats" && args.size() == 2) return print_stats(args[1]);
  if (verb == "page-server" && (args.size() == 6 || args.size() == 7)) {
    PageServerRequest request;
    request.attempt_dir = args[1];
    uint32_t round = 0;
    if ((args[2] != "round" && args[2] != "final") || !number(args[3], round) ||
        !number(args[5], request.port)) {
      return usage();
    }
    request.set = args[2] == "final" ? ImageSet::final_after(round) : ImageSet::precopy(round);
    request.address = args[4];
    if (args.size() == 7 && !number(args[6], request.status_fd)) return usage();
    return print_argv(page_server_command(request));
  }
  if ((verb == "pre-dump" || verb == "dump") && args.size() == 6) {
    DumpRequest request;
    uint32_t round = 0;
    if (!number(args[1], request.pid) || !number(args[3], round) ||
        !number(args[5], request.port)) {
      return usage();
    }
    request.attempt_dir = args[2];
    request.address = args[4];
    if (verb == "pre-dump") {
      request.set = ImageSet::precopy(round);
      return print_argv(pre_dump_command(request));
    }
    request.set = ImageSet::final_after(round);
    return print_argv(dump_command(request));
  }
  if (verb == "restore" && args.size() == 3) {
    return print_argv(restore_command({args[1], args[2]}));
  }
  return usage();
}
