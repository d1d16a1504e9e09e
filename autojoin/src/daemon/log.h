// Journal lines. clusterlived runs under systemd with stderr going to the journal, which reads
// the "<N>" syslog priority prefix of each line (SyslogLevelPrefix=yes, the default).
#pragma once

#include <string>

namespace clusterlive::log {

/// Something a user may want to know: joins, leaves, the mesh coming up.
void info(const std::string& message);
/// Something wrong that clusterlived works around: a rejected record, a failed command.
void warning(const std::string& message);
/// Something that stops a part of clusterlived from working.
void error(const std::string& message);

}  // namespace clusterlive::log
