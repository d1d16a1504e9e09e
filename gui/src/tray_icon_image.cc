#include "tray_icon_image.h"

#include <QPainter>
#include <algorithm>

namespace clusterlive::view {

QColor health_colour(Health health) {
  switch (health) {
    case Health::good:
      return QColor(0x2e, 0x7d, 0x32);
    case Health::warning:
      return QColor(0xef, 0x8f, 0x00);
    case Health::broken:
      return QColor(0xc6, 0x28, 0x28);
  }
  return Qt::gray;
}

QImage draw_tray_icon(const TraySummary& summary, int size) {
  QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::transparent);
  QPainter painter(&image);
  painter.setRenderHint(QPainter::Antialiasing);

  const qreal ring = std::max<qreal>(2, size / 8.0);
  QRectF outer(ring / 2, ring / 2, size - ring, size - ring);
  // The load arc: clockwise from the top, a full circle when every core is busy.
  double busy = summary.cores > 0 ? std::clamp(summary.load / summary.cores, 0.0, 1.0) : 0.0;
  painter.setPen(QPen(QColor(0x9e, 0x9e, 0x9e), ring));
  painter.drawEllipse(outer);
  if (busy > 0) {
    painter.setPen(QPen(QColor(0x15, 0x65, 0xc0), ring, Qt::SolidLine, Qt::FlatCap));
    painter.drawArc(outer, 90 * 16, -static_cast<int>(busy * 360 * 16));
  }
  QRectF disc = outer.adjusted(ring, ring, -ring, -ring);
  painter.setPen(Qt::NoPen);
  painter.setBrush(health_colour(summary.health));
  painter.drawEllipse(disc);

  painter.setPen(Qt::white);
  QFont font = painter.font();
  font.setBold(true);
  font.setPixelSize(std::max(6, static_cast<int>(disc.height() * 0.6)));
  painter.setFont(font);
  painter.drawText(disc, Qt::AlignCenter, QString::number(summary.nodes_up));
  return image;
}

}  // namespace clusterlive::view
