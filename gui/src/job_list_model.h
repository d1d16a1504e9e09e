// The jobs running on one node: the items of that node's card, which a person drags onto
// another card to move a job. The drag carries the job (dragged_job.h); dropping it only
// asks for a move, and the item stays here, showing the move's progress, until a snapshot
// shows the job on the other node.
#pragma once

#include <string>
#include <vector>

#include "api/api_types.h"
#include "keyed_list_model.h"
#include "pending_moves.h"

namespace clusterlive::view {

struct JobRow {
  api::JobView job;
  std::string pending;  ///< describe_pending() of its move, "" when none is pending
};

class JobListModel : public KeyedListModel<JobRow> {
  Q_OBJECT

 public:
  enum Role {
    IdRole = Qt::UserRole + 1,
    NameRole,
    OwnerRole,
    OwnerUidRole,   ///< int
    StateRole,      ///< "running", "migrating", ...
    CpuPercentRole, ///< double, of one core
    RssKibRole,     ///< qulonglong
    AtHomeRole,     ///< bool: runs on the node it was started on
    HomeRole,       ///< the node it was started on
    LockedRole,     ///< bool
    MigrationsRole, ///< int: times it moved
    PendingRole,    ///< the pending move, for a person; "" when none
  };

  /// The jobs of the node named `node`.
  explicit JobListModel(std::string node, QObject* parent = nullptr);

  const std::string& node() const { return node_; }

  /// A `ps` snapshot and the moves this window is waiting for: keeps the jobs that run on
  /// this node (not ended), oldest first.
  void set_jobs(const std::vector<api::JobView>& jobs, const PendingMoves& pending);
  /// The row of job `id`, -1 if it is not on this node.
  int row_of(const std::string& id) const;

  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QHash<int, QByteArray> roleNames() const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QStringList mimeTypes() const override;
  /// The first of `indexes`' jobs (one job per drag), with this node as where it came from.
  QMimeData* mimeData(const QModelIndexList& indexes) const override;
  /// Copy, not move: the view must not remove the item itself after a drop.
  Qt::DropActions supportedDragActions() const override;

 private:
  std::string node_;
};

/// "512.0 MiB", "3.1 GiB", "800 KiB".
std::string format_kib(uint64_t kib);

}  // namespace clusterlive::view
