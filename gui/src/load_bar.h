// A node's load as a bar: its length is the node's capacity (cores x CPU speed) against the
// largest node's, so a fast node's bar is longer; the filled part is how busy it is (load
// over cores). A half-filled bar of a fast node thus has more room than a full one of a
// slow node: openMosix's speed-normalised load, drawn.
#pragma once

#include <QWidget>

namespace clusterlive::view {

class LoadBar : public QWidget {
  Q_OBJECT

 public:
  explicit LoadBar(QWidget* parent = nullptr);

  /// `capacity` 0..1 (of the largest node), `busy` 0..1, or -1 when the load is unknown.
  void set_values(double capacity, double busy);
  double capacity() const { return capacity_; }
  double busy() const { return busy_; }

  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  double capacity_ = 0;
  double busy_ = -1;
};

}  // namespace clusterlive::view
