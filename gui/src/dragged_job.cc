#include "dragged_job.h"

#include <QMimeData>
#include <nlohmann/json.hpp>

#include "api/api_protocol.h"
#include "core/node_id.h"

namespace clusterlive::view {

QByteArray encode_dragged_job(const DraggedJob& dragged) {
  nlohmann::json payload = {{"job", dragged.job}, {"from", dragged.from}};
  std::string text = payload.dump();
  return QByteArray(text.data(), static_cast<qsizetype>(text.size()));
}

std::optional<DraggedJob> decode_dragged_job(const QByteArray& payload) {
  nlohmann::json parsed = nlohmann::json::parse(payload.begin(), payload.end(), nullptr,
                                                /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  auto job = parsed.find("job");
  auto from = parsed.find("from");
  if (job == parsed.end() || from == parsed.end() || !job->is_string() || !from->is_string())
    return std::nullopt;
  DraggedJob dragged{job->get<std::string>(), from->get<std::string>()};
  if (!api::check_job_id(dragged.job).empty() || !is_valid_node_id(dragged.from))
    return std::nullopt;
  return dragged;
}

QMimeData* make_job_mime_data(const DraggedJob& dragged) {
  auto* mime = new QMimeData;
  mime->setData(kJobMimeType, encode_dragged_job(dragged));
  // Dropped into a terminal or an editor, a job is its id.
  mime->setText(QString::fromStdString(dragged.job));
  return mime;
}

std::optional<DraggedJob> dragged_job_in(const QMimeData* mime) {
  if (mime == nullptr || !mime->hasFormat(kJobMimeType)) return std::nullopt;
  return decode_dragged_job(mime->data(kJobMimeType));
}

}  // namespace clusterlive::view
