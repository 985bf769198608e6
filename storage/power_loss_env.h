// storage::power_loss_env — TEST ONLY (kappad --test-power-loss). Wraps a
// real env so that, for the files it writes, bytes that were not fsynced are
// gone after the process is SIGKILLed and started again: a simulated power
// cut of a whole node, for the cluster fault suite (tests/cluster).
//
// A SIGKILL alone loses nothing on a real disk (the page cache survives it),
// so this env keeps a journal of what was made durable and enforces it at the
// next start:
// - Every file::sync() that succeeds records the file's size taken just
//   before the sync (bytes pwritten concurrently with it are not covered).
//   A shrinking truncate lowers the recorded size at once (a shrink counts as
//   durable, as in fault_env). Files opened for writing that predate the
//   journal are recorded at their size when first opened.
// - A file created through this env and never synced is recorded as such.
// - Renames and removals move or drop the records (they count as durable at
//   once: the model is about file data, not directory entries).
// - make_power_loss_env() first replays the journal found in journal_dir:
//   every recorded file longer than its durable size is truncated back to it,
//   and every created-but-never-synced file is removed. Then it starts a
//   fresh journal. Replaying twice is harmless (a crash during replay is
//   repaired by the next start).
// Not modelled (unlike fault_env): unsynced overwrites of already synced
// bytes survive; directory-entry durability (sync_dir) is not tracked; a
// real OS crash (the journal itself is not fsynced: it models SIGKILL only).
// Files outside journal_dir's tree are tracked the same way; read-only opens
// are never recorded.
//
// The journal is one text file, journal_dir/power-loss.journal, written with
// plain pwrites (page cache): one line per event, "C\tpath", "S\tsize\tpath",
// "R\tfrom\tto", "D\tpath" (paths hold no tab or newline). A torn last line
// is ignored. It is compacted (rewritten to the live records through a
// rename) when it holds many more lines than records.
//
// Thread safety: as env. Every call may come from any thread; journal
// updates are serialised by one mutex. `base` must outlive the env.
#pragma once

#include <memory>
#include <string>

#include "storage/env.h"

namespace kappa::storage {

// Replays the journal in journal_dir (creating the directory if missing) and
// returns the wrapping env. The process cannot run its test mode without
// the replay, so a failing replay aborts with a message (test-only code).
std::unique_ptr<env> make_power_loss_env(env& base, std::string journal_dir);

// The journal's file name inside journal_dir.
inline constexpr const char* kPowerLossJournalName = "power-loss.journal";

}  // namespace kappa::storage
