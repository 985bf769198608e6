// Exit codes shared by every kappactl command, so scripts can tell a
// recoverable log from a corrupt one without parsing text.
#pragma once

namespace kappa::kappactl {

inline constexpr int kExitOk = 0;
// The log ends in a torn tail (a crash mid-write): recovery truncates it.
// `log dump` also uses it for "damage was found and reported on stderr".
// The broker commands (topic, cluster, produce, consume, offsets,
// delete-records) use it for "the request failed": broker unreachable, an
// error answer, a record not acknowledged.
inline constexpr int kExitTornTail = 1;
inline constexpr int kExitFailed = 1;
// Damage followed by valid data: recovery refuses to truncate it.
inline constexpr int kExitCorruption = 2;
// Usage errors, missing paths, I/O failures: the command could not run.
inline constexpr int kExitError = 3;

}  // namespace kappa::kappactl
