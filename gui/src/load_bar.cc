#include "load_bar.h"

#include <QPainter>
#include <algorithm>

namespace clusterlive::view {

LoadBar::LoadBar(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void LoadBar::set_values(double capacity, double busy) {
  capacity = std::clamp(capacity, 0.0, 1.0);
  busy = busy < 0 ? -1 : std::clamp(busy, 0.0, 1.0);
  if (capacity == capacity_ && busy == busy_) return;
  capacity_ = capacity;
  busy_ = busy;
  setToolTip(busy_ < 0 ? tr("load not known")
                       : tr("%1 % busy; capacity %2 % of the largest node")
                             .arg(qRound(busy_ * 100))
                             .arg(qRound(capacity_ * 100)));
  update();
}

QSize LoadBar::sizeHint() const { return QSize(120, 10); }

void LoadBar::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  QRectF whole = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
  QRectF room = whole;
  room.setWidth(std::max(2.0, whole.width() * capacity_));
  painter.setPen(palette().color(QPalette::Mid));
  painter.setBrush(palette().color(QPalette::Base));
  painter.drawRect(room);
  if (busy_ > 0) {
    QRectF filled = room;
    filled.setWidth(room.width() * busy_);
    // Blue while there is room, red once tasks wait for a core.
    painter.setPen(Qt::NoPen);
    painter.setBrush(busy_ >= 1.0 ? QColor(0xc6, 0x28, 0x28) : QColor(0x15, 0x65, 0xc0));
    painter.drawRect(filled);
  }
}

}  // namespace clusterlive::view
