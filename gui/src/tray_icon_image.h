// The tray icon, drawn: a disc coloured by the cluster's health (green, amber, red) with the
// number of nodes up, and an arc round it for the load over the cores. Pure (a QImage needs
// no display), so tests can look at its pixels.
#pragma once

#include <QColor>
#include <QImage>

#include "tray_summary.h"

namespace clusterlive::view {

QColor health_colour(Health health);
/// The icon at `size` x `size` pixels.
QImage draw_tray_icon(const TraySummary& summary, int size);

}  // namespace clusterlive::view
