// The cluster's nodes, one row each (this node first, then by name): what the window's
// cards and the tray show. Filled from the daemon's `nodes` answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_types.h"
#include "keyed_list_model.h"

namespace clusterlive::view {

class NodeListModel : public KeyedListModel<api::NodeView> {
  Q_OBJECT

 public:
  enum Role {
    NameRole = Qt::UserRole + 1,
    StateRole,        ///< "up", "suspect", "dead", "foreign"
    SelfRole,         ///< bool: this PC
    CoresRole,        ///< int, 0 when unknown
    CpuSpeedRole,     ///< int: per-core speed from the boot benchmark, 0 when unknown
    LoadRole,         ///< double: smoothed runnable tasks, -1 when unknown
    BusyRole,         ///< double 0..1: load over cores (1 when tasks wait), -1 when unknown
    CapacityRole,     ///< double 0..1: cores x speed over the largest node's in the cluster
    FreeMemoryRole,   ///< int: MiB, -1 when unknown
  };

  using KeyedListModel::KeyedListModel;

  /// The daemon's `nodes` answer.
  void set_nodes(std::vector<api::NodeView> nodes);
  /// The row of the node named `name`, -1 if there is none.
  int row_of(const std::string& name) const;

  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QHash<int, QByteArray> roleNames() const override;

 private:
  double largest_capacity_ = 0;  // cores x speed of the largest node
};

/// The load over cores of `node` (1 when tasks wait), nullopt when either is unknown.
std::optional<double> busy_fraction(const api::NodeView& node);

}  // namespace clusterlive::view
