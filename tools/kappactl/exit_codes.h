// Exit codes shared by every kappactl command, so scripts can tell a
// recoverable log from a corrupt one without parsing text.
#pragma once

namespace kappa::kappactl {

inline constexpr int kExitOk = 0;
// The log ends in a torn tail (a crash mid-write): recovery truncates it.
// `log dump` also uses it for "damage was found and reported on stderr".
inline constexpr int kExitTornTail = 1;
// Damage followed by valid data: recovery refuses to truncate it.
inline constexpr int kExitCorruption = 2;
// Usage errors, missing paths, I/O failures: the command could not run.
inline constexpr int kExitError = 3;

}  // namespace kappa::kappactl
