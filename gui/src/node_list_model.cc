#include "node_list_model.h"

#include <algorithm>

namespace clusterlive::view {

std::optional<double> busy_fraction(const api::NodeView& node) {
  if (!node.load || !node.cores || *node.cores == 0) return std::nullopt;
  return std::clamp(*node.load / *node.cores, 0.0, 1.0);
}

void NodeListModel::set_nodes(std::vector<api::NodeView> nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const api::NodeView& a, const api::NodeView& b) {
    if (a.self != b.self) return a.self;
    return a.name < b.name;
  });
  largest_capacity_ = 0;
  for (const api::NodeView& node : nodes)
    largest_capacity_ = std::max(
        largest_capacity_, static_cast<double>(node.cores.value_or(0)) * node.cpu_speed.value_or(0));
  // Sorted by (self, name), which never change for a node: the order holds across snapshots.
  replace_rows(std::move(nodes), [](const api::NodeView& node) { return node.name; });
}

int NodeListModel::row_of(const std::string& name) const {
  for (size_t i = 0; i < rows().size(); ++i)
    if (rows()[i].name == name) return static_cast<int>(i);
  return -1;
}

QVariant NodeListModel::data(const QModelIndex& index, int role) const {
  // Views and QAbstractItemModelTester ask about invalid indexes too: no answer, no warning.
  if (!index.isValid() || index.parent().isValid() || index.row() >= rowCount()) return {};
  const api::NodeView& node = rows()[static_cast<size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
    case NameRole:
      return QString::fromStdString(node.name);
    case Qt::ToolTipRole:
      return QString::fromStdString(node.name + " (" + node.state + ")");
    case StateRole:
      return QString::fromStdString(node.state);
    case SelfRole:
      return node.self;
    case CoresRole:
      return static_cast<int>(node.cores.value_or(0));
    case CpuSpeedRole:
      return static_cast<int>(node.cpu_speed.value_or(0));
    case LoadRole:
      return node.load.value_or(-1.0);
    case BusyRole:
      return busy_fraction(node).value_or(-1.0);
    case CapacityRole: {
      double capacity = static_cast<double>(node.cores.value_or(0)) * node.cpu_speed.value_or(0);
      return largest_capacity_ > 0 ? capacity / largest_capacity_ : 0.0;
    }
    case FreeMemoryRole:
      return node.free_memory_mib ? static_cast<int>(*node.free_memory_mib) : -1;
    default:
      return {};
  }
}

QHash<int, QByteArray> NodeListModel::roleNames() const {
  return {{NameRole, "name"},         {StateRole, "state"},       {SelfRole, "self"},
          {CoresRole, "cores"},       {CpuSpeedRole, "cpuSpeed"}, {LoadRole, "load"},
          {BusyRole, "busy"},         {CapacityRole, "capacity"}, {FreeMemoryRole, "freeMemory"},
          {Qt::DisplayRole, "display"}};
}

}  // namespace clusterlive::view
