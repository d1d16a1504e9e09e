// Reading a job's processes and a node's facts from /proc and the file system, for the
// pre-flight (core/preflight.h decides from what these return) and for resuming or killing
// a job's whole process tree.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/preflight.h"

namespace clusterlive {

/// The processes of the PID namespace whose init is `init` (as this node numbers them), the
/// init first. Empty if `init` is gone.
std::vector<pid_t> processes_of_job(pid_t init);

/// When `pid` started, in clock ticks after boot (/proc/PID/stat field 22): with the pid, it
/// names one process even after the pid is reused. 0 if it is gone.
uint64_t start_time_of(pid_t pid);

/// Sends `signal` to every process of the job (SIGCONT after a dump left them stopped).
/// Returns how many were signalled.
size_t signal_job(pid_t init, int signal);

/// The command line of `pid` (/proc/PID/cmdline split at its NULs); empty if it is gone, a
/// zombie or a kernel thread.
std::vector<std::string> command_line_of(pid_t pid);

/// True if `pid` is a live migration worker: its argv[0] names clusterlive-migrate.
bool is_migration_worker(pid_t pid);

/// Live source workers of `job` (clusterlive-migrate source ... --job JOB), this process aside.
std::vector<pid_t> source_workers_of(const std::string& job);

/// Processes (this one aside) with an argument that is `dir` or a path under it, such as a
/// CRIU request writing into an attempt's work directory (-D DIR/final, -o DIR/dump.log).
std::vector<pid_t> processes_using_directory(const std::string& dir);

/// SIGKILLs every process processes_using_directory(dir) finds (CRIU requests a dead worker
/// left writing into its attempt's directory) and waits until they are gone from /proc, at
/// most `timeout_ms`: they are not the caller's children. False if one would not go (stuck
/// in the kernel, on a hung NFS write say).
bool stop_processes_using_directory(const std::string& dir, int64_t timeout_ms);

/// The job as the pre-flight sees it: every process's mappings, fds and tty, and its RSS.
/// nullopt (with `error`) if a process's /proc files cannot be read or parsed.
std::optional<JobSnapshot> snapshot_job(pid_t init, const std::string& name,
                                        const std::string& spool_dir, std::string& error);

/// This node's facts: CPU flags, MemAvailable, each of `paths` (stat, and the ELF build-id
/// of a regular file: "" for one that is not ELF or has none), and which of `criu_features`
/// its CRIU offers (asked of `criu check --feature NAME`, one by one).
NodeFacts gather_node_facts(const std::string& node, const std::vector<std::string>& paths,
                            const std::vector<std::string>& criu_features);

/// NodeFacts as JSON for the link, and back (nullopt if malformed).
nlohmann::json node_facts_to_json(const NodeFacts& facts);
std::optional<NodeFacts> node_facts_from_json(const nlohmann::json& json);

}  // namespace clusterlive
