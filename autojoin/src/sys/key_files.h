// Cluster-secret key files: reading them, writing them atomically, and looking for the secret
// in the standard places, in the order core/boot_config.h fixes (first found wins): kernel
// command line, boot medium, persistence volume, joined.
//
// A key file that is present but cannot be read (permission, I/O error, too large, not a
// regular file) is never skipped: skipping it could hand the node a lower source's secret,
// i.e. put it into another cluster than intended. Such a place decides the choice, and the
// choice is an error (see choose_key()).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/boot_config.h"
#include "sys/file_io.h"

namespace clusterlive {

/// Largest key file accepted, in bytes (a secret is 64 hex digits and a newline).
constexpr size_t kMaxKeyFileBytes = 4096;

/// The key file `make iso` puts on the boot medium (live-boot mounts the medium here).
constexpr std::string_view kBootMediumKeyPath = "/run/live/medium/clusterlive/cluster.key";
/// Where live-boot mounts persistence volumes, one directory each.
constexpr std::string_view kPersistenceMountsPath = "/run/live/persistence";
/// The key file inside a persistence volume.
constexpr std::string_view kPersistenceKeyRelativePath = "clusterlive/cluster.key";
/// The key file `clusterlive join` (or the GUI) writes.
constexpr std::string_view kJoinedKeyPath = "/var/lib/clusterlive/joined.key";
/// The kernel command line.
constexpr std::string_view kKernelCommandLinePath = "/proc/cmdline";

/// Reads a key file: status ok with its text (as is; ClusterSecret::parse trims whitespace),
/// not_found, too_large (more than kMaxKeyFileBytes), or error with the errno message.
ReadResult read_key_file(const std::string& path);

/// Writes a key file: creates its parent directory (mode 0700) if missing, then replaces the
/// file atomically with mode 0600 (see write_file_atomically: `path`.tmp, fsync, rename,
/// fsync of the directory). On an error before the rename the old file is untouched and the
/// temporary file removed. Returns false with `error` set on any error.
bool write_key_file_atomically(const std::string& path, std::string_view text, std::string& error);

/// What was found at one place a secret may be kept.
struct KeyLocation {
  SecretSource source = SecretSource::kernel_command_line;
  /// The file looked at, as seen on the system (without the test root): "/proc/cmdline" for
  /// the kernel command line; for persistence the key file found, or the mounts directory
  /// when there is none.
  std::string path;
  bool present = false;  ///< something is there: a key text, or a file that cannot be read
  std::string error;     ///< present but unreadable: why ("path: reason"); else empty
};

/// Every place a secret may be, in precedence order.
struct KeySources {
  /// One per SecretSource, in precedence order, ready for choose_secret(). A present but
  /// unreadable file is a candidate whose text is empty, which choose_secret() rejects
  /// ("not valid"): even a caller that ignores `locations` cannot fall through to a lower
  /// source. choose_key() gives the precise reason instead.
  std::vector<SecretCandidate> candidates;
  std::vector<KeyLocation> locations;  ///< same order and length as `candidates`
};

/// Looks in every place, under `root` ("/" is the real system; tests pass a temporary
/// directory): `clusterlive.key=` of `kernel_command_line` (the text of /proc/cmdline),
/// kBootMediumKeyPath, the first kPersistenceKeyRelativePath found in the directories of
/// kPersistenceMountsPath taken in byte-wise sorted order, and kJoinedKeyPath. Every file is
/// read (a lower one may be reported even when a higher one wins). A persistence mounts
/// directory that exists but cannot be listed counts as present and unreadable.
KeySources find_key_sources(std::string_view kernel_command_line, const std::string& root = "/");

/// choose_secret() with precise errors: the first present location decides; if it could not
/// be read, there is no secret and `error` says where and why ("...; not joining any
/// cluster"). Otherwise the same result as choose_secret(sources.candidates).
SecretChoice choose_key(const KeySources& sources);

/// Reads <root>/proc/cmdline; nullopt with `error` set if it cannot be read.
std::optional<std::string> read_kernel_command_line(std::string& error,
                                                    const std::string& root = "/");

}  // namespace clusterlive
