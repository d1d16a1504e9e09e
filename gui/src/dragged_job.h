// The drag payload of a job: which job, and the card (node) it was dragged from. A drop only
// asks the daemon to move the job; the payload never carries anything the daemon trusts.
#pragma once

#include <QByteArray>
#include <optional>
#include <string>

class QMimeData;

namespace clusterlive::view {

/// MIME type of a dragged job (one job per drag).
constexpr const char* kJobMimeType = "application/x-clusterlive-job";

struct DraggedJob {
  std::string job;   ///< job id, e.g. "j-3f9a0c12"
  std::string from;  ///< node id the job ran on when the drag started

  bool operator==(const DraggedJob&) const = default;
};

/// The payload as compact JSON: {"from":"node-a","job":"j-3f9a0c12"}.
QByteArray encode_dragged_job(const DraggedJob& dragged);
/// The payload back; nullopt unless it is a JSON object with a well-formed job id and node id
/// (a drop may come from any program on the desktop).
std::optional<DraggedJob> decode_dragged_job(const QByteArray& payload);

/// New MIME data holding `dragged` (the caller owns it; QDrag takes it over).
QMimeData* make_job_mime_data(const DraggedJob& dragged);
/// The job in `mime`, nullopt when it holds none or a malformed one.
std::optional<DraggedJob> dragged_job_in(const QMimeData* mime);

}  // namespace clusterlive::view
