#include "migrate/commit_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "sys/file_io.h"

namespace clusterlive {
namespace {

std::optional<CommitRecord> read_record_file(const std::string& path) {
  ReadResult text = read_file_bounded(path, kMaxCommitRecordBytes);
  if (text.status != ReadStatus::ok) return std::nullopt;
  return parse_commit_record(text.text);
}

void sync_directory(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

bool create_prepared_record(const std::string& spool, const CommitRecord& record,
                            std::string& error) {
  std::string path = spool + "/" + prepared_record_name(record.attempt);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = path + ": " + errno_text(errno);
    return false;
  }
  std::string text = format_commit_record(record);
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  if (!ok) error = path + ": " + errno_text(errno);
  if (close(fd) != 0 && ok) {
    error = path + ": " + errno_text(errno);
    ok = false;
  }
  // A half-written record is left for the abort's fence to move aside: never unlinked, so a
  // target that saw it always finds what it saw.
  sync_directory(spool);
  return ok;
}

RenameResult rename_record(const std::string& spool, const std::string& from,
                           const std::string& to, std::string& error) {
  if (rename((spool + "/" + from).c_str(), (spool + "/" + to).c_str()) == 0) {
    sync_directory(spool);
    return RenameResult::done;
  }
  int saved = errno;
  error = "rename " + from + " -> " + to + ": " + errno_text(saved);
  return saved == ENOENT ? RenameResult::not_found : RenameResult::failed;
}

std::optional<CommitRecord> read_location(const std::string& spool) {
  return read_record_file(spool + "/" + std::string(kCommitRecordName));
}

std::optional<CommitRecord> read_prepared_record(const std::string& spool, uint64_t attempt) {
  return read_record_file(spool + "/" + prepared_record_name(attempt));
}

void append_move(const std::string& spool, const MoveEntry& move) {
  int fd = open((spool + "/moves").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string line = std::to_string(move.attempt) + " " + move.source + " " + move.target + " " +
                     std::to_string(move.freeze_ms) + " " + std::to_string(move.bytes_sent) +
                     "\n";
  [[maybe_unused]] ssize_t written = write(fd, line.data(), line.size());
  close(fd);
}

std::vector<std::string> directory_entries(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (!dir) return names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  return names;
}

}  // namespace clusterlive
