// Starting a program that must outlive the daemon (a migration worker): double fork, so PID 1
// adopts it, in a session of its own, with every signal unblocked (the daemon blocks some for
// its signalfd). Its stdout and stderr stay the daemon's (the journal).
#pragma once

#include <string>
#include <vector>

namespace clusterlive {

/// Starts `argv` (argv[0] an absolute path) detached. `fd3`, if >= 0, becomes its fd 3;
/// stdin is /dev/null. False with `error` if it could not be started (exec failure included).
bool spawn_detached(const std::vector<std::string>& argv, int fd3, std::string& error);

}  // namespace clusterlive
