#include "cli/cli_app.h"

#include <CLI/CLI.hpp>
#include <optional>
#include <vector>

#include "api/api_protocol.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/job_commands.h"
#include "cli/secret_input.h"

#ifndef CLUSTERLIVE_VERSION
#define CLUSTERLIVE_VERSION "unknown"
#endif

namespace clusterlive::cli {
namespace {

using api::Command;
using api::Request;
using nlohmann::json;

/// The command as typed on the command line ("key show" for key_show).
std::string command_words(Command command) {
  return command == Command::key_show ? "key show" : api::command_name(command);
}

std::string footer() {
  return std::string(
             "Exit status:\n"
             "  0  done\n"
             "  1  clusterlived refused or failed the request (the reason is on stderr)\n"
             "  2  usage error, or a key file that cannot be read or is not a key\n"
             "  3  clusterlived is not running or cannot be reached\n"
             "  4  permission denied: the command needs root, or the job is someone else's\n"
             "run (in the foreground) and wait exit with the job's status: its exit code,\n"
             "128+N when signal N killed it, 125 when it was lost or clusterlive itself failed.\n"
             "migrate exits 0 once the job runs on NODE (with --no-wait: once the migration\n"
             "started), 1 when it was refused or failed, the job ended first, or nothing\n"
             "changed for 300 s.\n"
             "\n"
             "The socket is --socket PATH, else $CLUSTERLIVE_SOCKET, else ") +
         api::kDefaultSocketPath + ".\nSee clusterlive(1).";
}

/// Prints an error answer to `command`, with a hint to use sudo when it needs root; returns
/// the exit code.
int report_error(const api::ApiError& error, Command command, bool as_json, CliIo& io) {
  std::string words = command_words(command);
  if (error.code != "permission_denied" || !api::needs_root(command)) {
    return clusterlive::cli::report_error(error, words, as_json, io);
  }
  if (as_json) print_json(io.out, {{"error", {{"code", error.code}, {"message", error.message}}}});
  io.err << "clusterlive: permission denied: " << terminal_safe(error.message)
         << " (try: sudo clusterlive " << words << ")\n";
  return exit_code_for_error(error.code);
}

int report_unreadable(const std::string& what, CliIo& io) {
  io.err << "clusterlive: clusterlived's answer is not understood: " << what << "\n";
  return kExitFailed;
}

/// Shows a success answer; returns the exit code.
int show_result(Command command, const json& result, bool as_json, bool counters, CliIo& io) {
  if (as_json) {
    print_json(io.out, result);
    return kExitOk;
  }
  std::string error;
  switch (command) {
    case Command::status: {
      std::optional<api::StatusView> status = api::parse_status_result(result, error);
      if (!status) return report_unreadable(error, io);
      io.out << format_status(*status, counters);
      return kExitOk;
    }
    case Command::nodes: {
      std::optional<std::vector<api::NodeView>> nodes = api::parse_nodes_result(result, error);
      if (!nodes) return report_unreadable(error, io);
      io.out << format_nodes(*nodes);
      return kExitOk;
    }
    case Command::key_show: {
      std::optional<std::string> secret = api::parse_secret_result(result, error);
      if (!secret) return report_unreadable(error, io);
      io.out << terminal_safe(*secret) << "\n";
      api::wipe(*secret);
      return kExitOk;
    }
    case Command::create: {
      std::optional<std::string> id = api::parse_cluster_id_result(result, error);
      if (!id) return report_unreadable(error, io);
      io.out << "created cluster " << terminal_safe(*id) << "\n"
             << "This node now belongs to it. To add another PC, carry the cluster key there\n"
             << "(keep it private: whoever holds it can join the cluster):\n"
             << "  here:  (umask 077; sudo clusterlive key show > cluster.key)\n"
             << "  there: sudo clusterlive join cluster.key\n";
      return kExitOk;
    }
    case Command::join: {
      std::optional<std::string> id = api::parse_cluster_id_result(result, error);
      if (!id) return report_unreadable(error, io);
      io.out << "joined cluster " << terminal_safe(*id) << "\n";
      return kExitOk;
    }
    case Command::run:
    case Command::ps:
    case Command::job:
    case Command::kill:
    case Command::migrate:
    case Command::lock:
    case Command::unlock:
      break;  // cli/job_commands and cli/migrate_command show these
  }
  return kExitFailed;
}

/// For join: root first (before a key is typed for nothing), then a daemon to talk to, then
/// the key. Fills `request.secret`; returns kExitOk or the exit code to stop with.
int prepare_join(const std::string& file, api::Client& client, Request& request, CliIo& io) {
  if (io.euid != 0) {
    io.err << "clusterlive: permission denied: join needs root (try: sudo clusterlive join"
           << (file.empty() ? "" : " " + file) << ")\n";
    return kExitPermissionDenied;
  }
  api::CallResult probe = client.connect();
  if (probe.status != api::CallStatus::answered) {
    io.err << "clusterlive: " << probe.message << "\n";
    return exit_code_for(probe.status);
  }
  client.disconnect();  // typing the key may take longer than the daemon waits for a request

  KeyInput input;
  std::string source;
  if (!file.empty() && file != "-") {
    source = file;
    input = read_key_file(file);
  } else if (io.in_fd >= 0) {
    source = "the typed key";
    input = read_key_from_terminal(io.in_fd, io.err);
  } else {
    source = "standard input";
    input = read_key_stream(io.in, source);
  }
  if (!input.text) {
    io.err << "clusterlive: " << input.error << "\n";
    return kExitUsage;
  }
  std::string error;
  std::optional<std::string> key = normalize_key(*input.text, source, error);
  if (!key) {
    io.err << "clusterlive: " << error << "\n";
    return kExitUsage;
  }
  request.secret = std::move(*key);
  return kExitOk;
}

}  // namespace

void print_json(std::ostream& out, const json& value) {
  out << value.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

int report_error(const api::ApiError& error, const std::string& command, bool as_json, CliIo& io) {
  if (as_json) print_json(io.out, {{"error", {{"code", error.code}, {"message", error.message}}}});
  std::string message = terminal_safe(error.message);
  if (error.code == "permission_denied") {
    io.err << "clusterlive: permission denied: " << message << "\n";
  } else if (error.code == "no_secret") {
    io.err << "clusterlive: " << message
           << "\nMake a cluster with `clusterlive create`, or join one with `clusterlive join`.\n";
  } else if (error.code == "not_found") {
    io.err << "clusterlive: " << message << "\n";
  } else if (error.code == "failed") {
    io.err << "clusterlive: " << command << " failed: " << message << "\n";
  } else {
    io.err << "clusterlive: clusterlived refused " << command << " (" << terminal_safe(error.code)
           << "): " << message << "\n";
  }
  return exit_code_for_error(error.code);
}

int exit_code_for(api::CallStatus status) {
  switch (status) {
    case api::CallStatus::answered:
      return kExitOk;
    case api::CallStatus::not_running:
    case api::CallStatus::unreachable:
      return kExitUnreachable;
    case api::CallStatus::permission_denied:
      return kExitPermissionDenied;
    case api::CallStatus::protocol_error:
      return kExitFailed;
  }
  return kExitFailed;
}

int exit_code_for_error(const std::string& code) {
  if (code == api::error_code_name(api::ErrorCode::permission_denied)) {
    return kExitPermissionDenied;
  }
  if (code == api::error_code_name(api::ErrorCode::busy)) return kExitUnreachable;
  return kExitFailed;
}

int run_cli(int argc, const char* const* argv, CliIo& io) {
  CLI::App app{
      "Show and manage this PC's place in a clusterlive cluster, and run jobs on the "
      "cluster, through the local clusterlived.",
      "clusterlive"};
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the subcommand too
  app.footer(footer());
  app.set_version_flag("--version", std::string("clusterlive ") + CLUSTERLIVE_VERSION);

  bool as_json = false;
  std::string socket_path = api::kDefaultSocketPath;
  app.add_flag("--json", as_json, "Print the daemon's answer as JSON (for scripts)");
  app.add_option("--socket", socket_path, "clusterlived's API socket")
      ->type_name("PATH")
      ->envname("CLUSTERLIVE_SOCKET");

  bool counters = false;
  CLI::App* status = app.add_subcommand("status", "This node: cluster, members, mesh, CRIU");
  status->add_flag("-c,--counters", counters, "Also show every counter of the daemon");
  CLI::App* nodes = app.add_subcommand("nodes", "Every node seen: state, load, memory");
  CLI::App* key = app.add_subcommand("key", "The cluster key (root only)");
  key->require_subcommand(1);
  CLI::App* key_show =
      key->add_subcommand("show", "Print the cluster key, 64 hex digits (root only)");
  CLI::App* create =
      app.add_subcommand("create", "Make a new cluster with a fresh key and join it (root only)");
  std::string key_file;
  CLI::App* join = app.add_subcommand(
      "join", "Join the cluster whose key is in FILE, or on standard input (root only)");
  join->add_option("FILE", key_file, "Key file; absent or \"-\": standard input")->type_name("");

  JobCommand job_command;
  CLI::App* run = app.add_subcommand(
      "run",
      "Start COMMAND as a job of the cluster, as you; in the foreground, show its output "
      "and exit with its status (Ctrl-C kills it)");
  run->add_flag("-d,--detach", job_command.detach, "Print the job's id and return at once");
  run->add_option("--name", job_command.name, "Name the job (default: the command's name)")
      ->type_name("NAME");
  run->add_option("--on", job_command.on,
                  "Run it on NODE (or \"best\"): it starts here, its home, and moves there at "
                  "once; if it cannot, it runs here and run says why")
      ->type_name("NODE");
  std::vector<std::string> command_help;  // the command is cut off before parsing; for --help
  run->add_option("COMMAND", command_help,
                  "The command and its arguments, after \"--\" if it starts with \"-\"")
      ->type_name("");
  CLI::App* ps = app.add_subcommand("ps", "Every job: where it runs, its state, CPU, memory");
  CLI::App* job = app.add_subcommand("job", "Everything about one job");
  CLI::App* kill = app.add_subcommand("kill", "End a job (yours; root: anyone's)");
  CLI::App* wait =
      app.add_subcommand("wait", "Wait until a job has ended, and exit with its status");
  CLI::App* logs =
      app.add_subcommand("logs", "Print a job's output: its standard output, then its errors");
  logs->add_flag("-f,--follow", job_command.follow,
                 "Keep printing as the job writes, until it ends");
  CLI::App* migrate = app.add_subcommand(
      "migrate",
      "Move a job to NODE, back to its first node with \"home\", or where it would run fastest "
      "with \"best\" (yours; root: anyone's), and wait until it has moved");
  migrate->add_flag("--no-wait", job_command.no_wait,
                    "Print the job's id and the target, and return once the migration started");
  CLI::App* lock = app.add_subcommand(
      "lock",
      "Keep a job on the node it runs on: migrate refuses to move it (yours; root: anyone's)");
  CLI::App* unlock =
      app.add_subcommand("unlock", "Let a locked job be moved again (yours; root: anyone's)");
  for (CLI::App* sub : {job, kill, wait, logs, migrate, lock, unlock}) {
    sub->add_option("JOB", job_command.job_id, "The job's id, e.g. j-3f9a0c12 (see ps)")
        ->required()
        ->type_name("");
  }
  migrate
      ->add_option("NODE", job_command.target,
                   "The node to move it to, e.g. node-77c2e0 (see nodes), \"home\" or \"best\"")
      ->required()
      ->type_name("");

  // The job's command is not for CLI11: its options are the command's own.
  std::vector<std::string> args(argv, argv + argc);
  SplitCommandLine split = split_run_command(args);
  job_command.argv = split.command;
  std::vector<const char*> cli11_args;
  for (const std::string& arg : split.options) cli11_args.push_back(arg.c_str());

  try {
    app.parse(static_cast<int>(cli11_args.size()), cli11_args.data());
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, io.out, io.err);
    if (code == 0) return kExitOk;
    return run->parsed() || wait->parsed() ? kExitRunFailed : kExitUsage;
  }

  const std::pair<CLI::App*, JobCommand::Kind> job_kinds[] = {
      {run, JobCommand::Kind::run},         {ps, JobCommand::Kind::ps},
      {job, JobCommand::Kind::job},         {kill, JobCommand::Kind::kill},
      {wait, JobCommand::Kind::wait},       {logs, JobCommand::Kind::logs},
      {migrate, JobCommand::Kind::migrate}, {lock, JobCommand::Kind::lock},
      {unlock, JobCommand::Kind::unlock},
  };
  for (const auto& [sub, kind] : job_kinds) {
    if (!sub->parsed()) continue;
    job_command.kind = kind;
    job_command.as_json = as_json;
    if (sub != run && sub != ps) {  // every other job command names a job
      std::string why = api::check_job_id(job_command.job_id);
      if (!why.empty()) {
        io.err << "clusterlive: \"" << terminal_safe(job_command.job_id) << "\" is " << why << "\n";
        return sub == wait ? kExitRunFailed : kExitUsage;
      }
    }
    if (sub == run && !job_command.on.empty()) {
      std::string why = api::check_migrate_target(job_command.on);
      if (!why.empty()) {
        io.err << "clusterlive: \"" << terminal_safe(job_command.on) << "\" is " << why << "\n";
        return kExitRunFailed;
      }
    }
    if (sub == migrate) {
      std::string why = api::check_migrate_target(job_command.target);
      if (!why.empty()) {
        io.err << "clusterlive: \"" << terminal_safe(job_command.target) << "\" is " << why << "\n";
        return kExitUsage;
      }
    }
    if (sub == logs && as_json) {
      io.err << "clusterlive: logs has no --json form: it prints the job's output as it is\n";
      return kExitUsage;
    }
    return run_job_command(job_command, socket_path, io);
  }

  Command command = Command::status;
  if (status->parsed()) {
    command = Command::status;
  } else if (nodes->parsed()) {
    command = Command::nodes;
  } else if (key_show->parsed()) {
    command = Command::key_show;
  } else if (create->parsed()) {
    command = Command::create;
  } else if (join->parsed()) {
    command = Command::join;
  }

  api::ClientOptions options;
  bool changes = command == Command::create || command == Command::join;
  options.timeout_ms = changes ? kChangeTimeoutMs : kReadTimeoutMs;
  api::Client client(socket_path, options);
  Request request(command);
  if (command == Command::join) {
    int code = prepare_join(key_file, client, request, io);
    if (code != kExitOk) return code;
  }

  api::CallResult result = client.call(request);
  if (result.status != api::CallStatus::answered) {
    io.err << "clusterlive: " << terminal_safe(result.message) << "\n";
    return exit_code_for(result.status);
  }
  if (!result.response.ok) return report_error(result.response.error, command, as_json, io);
  return show_result(command, result.response.result, as_json, counters, io);
}

}  // namespace clusterlive::cli
