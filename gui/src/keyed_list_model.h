// A list model whose rows have a key (a node's name, a job's id) and come from a snapshot
// of the daemon every second or so. replace_rows() reports only what changed: rows gone
// are removed, new rows inserted where they belong and the rest reported as changed, so a
// selection, the keyboard focus or a drag under way survive a refresh.
#pragma once

#include <QAbstractListModel>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

namespace clusterlive::view {

template <typename Row>
class KeyedListModel : public QAbstractListModel {
 public:
  using QAbstractListModel::QAbstractListModel;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
  }
  const std::vector<Row>& rows() const { return rows_; }

 protected:
  /// Makes `next` the rows. `next` is in the model's order, and rows keep their order
  /// relative to each other from one snapshot to the next (it is by keys that do not
  /// change); if they do not, the model is reset.
  template <typename KeyOf>
  void replace_rows(std::vector<Row> next, KeyOf key_of) {
    using Key = std::remove_cvref_t<std::invoke_result_t<KeyOf&, const Row&>>;
    std::set<Key> next_keys, current_keys;
    for (const Row& row : next) next_keys.insert(key_of(row));
    for (const Row& row : rows_) current_keys.insert(key_of(row));
    std::vector<Key> kept_in_current, kept_in_next;
    for (const Row& row : rows_)
      if (next_keys.count(key_of(row)) != 0) kept_in_current.push_back(key_of(row));
    for (const Row& row : next)
      if (current_keys.count(key_of(row)) != 0) kept_in_next.push_back(key_of(row));
    if (kept_in_current != kept_in_next || next_keys.size() != next.size()) {
      beginResetModel();
      rows_ = std::move(next);
      endResetModel();
      return;
    }
    for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
      if (next_keys.count(key_of(rows_[i])) != 0) continue;
      beginRemoveRows(QModelIndex(), i, i);
      rows_.erase(rows_.begin() + i);
      endRemoveRows();
    }
    for (size_t i = 0; i < next.size(); ++i) {
      if (i < rows_.size() && key_of(rows_[i]) == key_of(next[i])) continue;
      int at = static_cast<int>(i);
      beginInsertRows(QModelIndex(), at, at);
      rows_.insert(rows_.begin() + at, next[i]);
      endInsertRows();
    }
    rows_ = std::move(next);  // same keys in the same order now; the values are new
    if (!rows_.empty()) emit dataChanged(index(0), index(static_cast<int>(rows_.size()) - 1));
  }

 private:
  std::vector<Row> rows_;
};

}  // namespace clusterlive::view
