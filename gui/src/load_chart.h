// The cluster's load over the last ten minutes (load_history.h): the runnable tasks as a
// line, and the live members' cores as a dashed line above which tasks wait.
#pragma once

#include <QWidget>

namespace clusterlive::view {

class LoadHistory;

class LoadChart : public QWidget {
  Q_OBJECT

 public:
  explicit LoadChart(const LoadHistory& history, QWidget* parent = nullptr);
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  const LoadHistory& history_;
};

}  // namespace clusterlive::view
