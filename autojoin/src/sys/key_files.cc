#include "sys/key_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace clusterlive {
namespace {

/// Largest /proc/cmdline read, in bytes (the kernel's COMMAND_LINE_SIZE is 2048 on x86).
constexpr size_t kMaxKernelCommandLineBytes = 64 * 1024;

// The location and candidate of one key file.
void add_key_file(SecretSource source, const std::string& root, std::string_view path,
                  KeySources& sources) {
  KeyLocation location{source, std::string(path), false, ""};
  SecretCandidate candidate{source, std::nullopt};
  ReadResult file = read_key_file(path_under_root(root, path));
  if (file.status == ReadStatus::ok) {
    location.present = true;
    candidate.text = std::move(file.text);
  } else if (file.status != ReadStatus::not_found) {
    location.present = true;
    location.error = std::move(file.error);
    candidate.text = std::string();  // rejected by choose_secret(): never a fall-through
  }
  sources.locations.push_back(std::move(location));
  sources.candidates.push_back(std::move(candidate));
}

// Names in `directory` (not "." and ".."), sorted byte-wise; nullopt with `errno_value` set
// if it cannot be listed.
std::optional<std::vector<std::string>> list_directory(const std::string& directory,
                                                       int& errno_value) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    errno_value = errno;
    return std::nullopt;
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    errno_value = errno;
    ::close(fd);
    return std::nullopt;
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int saved = errno;  // readdir returns nullptr at the end (errno 0) or on an error
  ::closedir(dir);
  if (saved != 0) {
    errno_value = saved;
    return std::nullopt;
  }
  std::sort(names.begin(), names.end());
  return names;
}

void add_persistence_key(const std::string& root, KeySources& sources) {
  const SecretSource source = SecretSource::persistence;
  int list_errno = 0;
  std::optional<std::vector<std::string>> volumes =
      list_directory(path_under_root(root, kPersistenceMountsPath), list_errno);
  if (!volumes) {
    KeyLocation location{source, std::string(kPersistenceMountsPath), false, ""};
    SecretCandidate candidate{source, std::nullopt};
    if (list_errno != ENOENT && list_errno != ENOTDIR) {
      // A key may be in there: fail closed.
      location.present = true;
      location.error = std::string(kPersistenceMountsPath) + ": " + errno_text(list_errno);
      candidate.text = std::string();
    }
    sources.locations.push_back(std::move(location));
    sources.candidates.push_back(std::move(candidate));
    return;
  }
  for (const std::string& volume : *volumes) {
    std::string path = std::string(kPersistenceMountsPath) + "/" + volume + "/" +
                       std::string(kPersistenceKeyRelativePath);
    add_key_file(source, root, path, sources);
    if (sources.locations.back().present) return;  // first found wins, readable or not
    sources.locations.pop_back();
    sources.candidates.pop_back();
  }
  sources.locations.push_back(KeyLocation{source, std::string(kPersistenceMountsPath), false, ""});
  sources.candidates.push_back(SecretCandidate{source, std::nullopt});
}

}  // namespace

ReadResult read_key_file(const std::string& path) {
  return read_file_bounded(path, kMaxKeyFileBytes);
}

bool write_key_file_atomically(const std::string& path, std::string_view text, std::string& error) {
  AtomicWriteOptions options;
  options.mode = 0600;
  options.create_parent = true;
  options.parent_mode = 0700;
  return write_file_atomically(path, text, options, error);
}

KeySources find_key_sources(std::string_view kernel_command_line, const std::string& root) {
  KeySources sources;
  KernelParameters parameters = parse_kernel_parameters(kernel_command_line);
  bool on_command_line = parameters.key.has_value();
  sources.locations.push_back(KeyLocation{
      SecretSource::kernel_command_line, std::string(kKernelCommandLinePath), on_command_line, ""});
  sources.candidates.push_back(
      SecretCandidate{SecretSource::kernel_command_line, std::move(parameters.key)});
  add_key_file(SecretSource::boot_medium, root, kBootMediumKeyPath, sources);
  add_persistence_key(root, sources);
  add_key_file(SecretSource::joined, root, kJoinedKeyPath, sources);
  return sources;
}

SecretChoice choose_key(const KeySources& sources) {
  for (const KeyLocation& location : sources.locations) {
    if (!location.present) continue;
    if (location.error.empty()) break;
    SecretChoice choice;
    choice.source = location.source;
    choice.error = "cannot read the cluster secret from the " +
                   std::string(to_string(location.source)) + " (" + location.error +
                   "); not joining any cluster";
    return choice;
  }
  return choose_secret(sources.candidates);
}

std::optional<std::string> read_kernel_command_line(std::string& error, const std::string& root) {
  std::string path = path_under_root(root, kKernelCommandLinePath);
  ReadResult file = read_file_bounded(path, kMaxKernelCommandLineBytes);
  if (file.status == ReadStatus::ok) return std::move(file.text);
  error = file.status == ReadStatus::not_found ? path + ": not found" : file.error;
  return std::nullopt;
}

}  // namespace clusterlive
