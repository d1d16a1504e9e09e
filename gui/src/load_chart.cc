#include "load_chart.h"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>

#include "load_history.h"

namespace clusterlive::view {

LoadChart::LoadChart(const LoadHistory& history, QWidget* parent)
    : QWidget(parent), history_(history) {
  setAccessibleName(tr("cluster load, last 10 minutes"));
}

QSize LoadChart::sizeHint() const { return QSize(400, 120); }

void LoadChart::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  const auto& samples = history_.samples();
  if (samples.empty()) {
    painter.drawText(rect(), Qt::AlignCenter, tr("no load seen yet"));
    return;
  }
  double top = 1;
  for (const LoadSample& sample : samples)
    top = std::max({top, sample.load, static_cast<double>(sample.cores)});
  top *= 1.1;
  const int64_t end = samples.back().at_ms;
  const int64_t start = end - history_.span_ms();
  const QRectF area = QRectF(rect()).adjusted(30, 6, -6, -6);
  auto x_of = [&](int64_t at) {
    return area.left() + area.width() * static_cast<double>(at - start) /
                             static_cast<double>(history_.span_ms());
  };
  auto y_of = [&](double value) { return area.bottom() - area.height() * value / top; };

  QPainterPath load, cores;
  for (size_t i = 0; i < samples.size(); ++i) {
    QPointF at_load(x_of(samples[i].at_ms), y_of(samples[i].load));
    QPointF at_cores(x_of(samples[i].at_ms), y_of(samples[i].cores));
    if (i == 0) {
      load.moveTo(at_load);
      cores.moveTo(at_cores);
    } else {
      load.lineTo(at_load);
      cores.lineTo(at_cores);
    }
  }
  painter.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DashLine));
  painter.drawPath(cores);
  painter.setPen(QPen(QColor(0x15, 0x65, 0xc0), 2));
  painter.drawPath(load);
  painter.setPen(palette().color(QPalette::Text));
  painter.drawText(QRectF(0, area.top() - 6, 28, 14), Qt::AlignRight, QString::number(top, 'f', 0));
  painter.drawText(QRectF(0, area.bottom() - 8, 28, 14), Qt::AlignRight, "0");
}

}  // namespace clusterlive::view
