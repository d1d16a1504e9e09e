#include "job_list_model.h"

#include <QMimeData>
#include <algorithm>
#include <cstdio>

#include "dragged_job.h"

namespace clusterlive::view {

std::string format_kib(uint64_t kib) {
  char text[32];
  if (kib < 1024)
    std::snprintf(text, sizeof text, "%llu KiB", static_cast<unsigned long long>(kib));
  else if (kib < 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(kib) / 1024.0);
  else
    std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(kib) / (1024.0 * 1024.0));
  return text;
}

JobListModel::JobListModel(std::string node, QObject* parent)
    : KeyedListModel(parent), node_(std::move(node)) {}

void JobListModel::set_jobs(const std::vector<api::JobView>& jobs, const PendingMoves& pending) {
  std::vector<JobRow> next;
  for (const api::JobView& job : jobs) {
    if (job.where != node_ || job.ended()) continue;
    const PendingMove* move = pending.find(job.id);
    next.push_back(JobRow{job, move ? describe_pending(*move) : ""});
  }
  // By start time, then id: neither changes, so the order holds across snapshots.
  std::sort(next.begin(), next.end(), [](const JobRow& a, const JobRow& b) {
    if (a.job.started_unix_ms != b.job.started_unix_ms)
      return a.job.started_unix_ms < b.job.started_unix_ms;
    return a.job.id < b.job.id;
  });
  replace_rows(std::move(next), [](const JobRow& row) { return row.job.id; });
}

int JobListModel::row_of(const std::string& id) const {
  for (size_t i = 0; i < rows().size(); ++i)
    if (rows()[i].job.id == id) return static_cast<int>(i);
  return -1;
}

QVariant JobListModel::data(const QModelIndex& index, int role) const {
  // Views and QAbstractItemModelTester ask about invalid indexes too: no answer, no warning.
  if (!index.isValid() || index.parent().isValid() || index.row() >= rowCount()) return {};
  const JobRow& row = rows()[static_cast<size_t>(index.row())];
  const api::JobView& job = row.job;
  switch (role) {
    case Qt::DisplayRole: {
      char usage[48];
      std::snprintf(usage, sizeof usage, "%.0f %%", job.cpu_percent);
      std::string text = job.name + (job.home == job.where ? " \u2302" : "") + "  " +
                         job.owner + "  " + usage + "  " + format_kib(job.rss_kib);
      if (job.locked) text += "  (locked)";
      if (!row.pending.empty()) text += "\n" + row.pending;
      return QString::fromStdString(text);
    }
    case Qt::ToolTipRole:
      return QString::fromStdString(job.id + ", started on " + job.home + ", moved " +
                                    std::to_string(job.migrations) + " times");
    case IdRole:
      return QString::fromStdString(job.id);
    case NameRole:
      return QString::fromStdString(job.name);
    case OwnerRole:
      return QString::fromStdString(job.owner);
    case OwnerUidRole:
      return static_cast<int>(job.owner_uid);
    case StateRole:
      return QString::fromStdString(job.state);
    case CpuPercentRole:
      return job.cpu_percent;
    case RssKibRole:
      return static_cast<qulonglong>(job.rss_kib);
    case AtHomeRole:
      return job.home == job.where;
    case HomeRole:
      return QString::fromStdString(job.home);
    case LockedRole:
      return job.locked;
    case MigrationsRole:
      return static_cast<int>(job.migrations);
    case PendingRole:
      return QString::fromStdString(row.pending);
    default:
      return {};
  }
}

QHash<int, QByteArray> JobListModel::roleNames() const {
  return {{IdRole, "id"},           {NameRole, "name"},
          {OwnerRole, "owner"},     {OwnerUidRole, "ownerUid"},
          {StateRole, "state"},     {CpuPercentRole, "cpuPercent"},
          {RssKibRole, "rssKib"},   {AtHomeRole, "atHome"},
          {HomeRole, "home"},       {LockedRole, "locked"},
          {MigrationsRole, "migrations"}, {PendingRole, "pending"},
          {Qt::DisplayRole, "display"}};
}

Qt::ItemFlags JobListModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags flags = KeyedListModel::flags(index);
  if (index.isValid()) flags |= Qt::ItemIsDragEnabled;
  return flags;
}

QStringList JobListModel::mimeTypes() const { return {QString(kJobMimeType)}; }

QMimeData* JobListModel::mimeData(const QModelIndexList& indexes) const {
  for (const QModelIndex& index : indexes) {
    if (!index.isValid() || index.parent().isValid() || index.row() >= rowCount()) continue;
    return make_job_mime_data(DraggedJob{rows()[static_cast<size_t>(index.row())].job.id, node_});
  }
  return nullptr;
}

Qt::DropActions JobListModel::supportedDragActions() const { return Qt::CopyAction; }

}  // namespace clusterlive::view
