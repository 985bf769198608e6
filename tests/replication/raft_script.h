// A small interpreter for data-driven Raft tests (etcd's datadriven style).
//
// A script is a sequence of blocks:
//
//   # comments (kept as they are)
//   command arg key=value key=(1,2,3)
//   ----
//   expected output (no blank lines; a blank line ends the block)
//
// The interpreter runs a simulated cluster of kappa::raft::node over
// memory_logs and an in-memory network. Commands:
//   add-nodes N [voters=(..)] [learners=(..)] [pre-vote=bool] [check-quorum=bool]
//             [max-msg-bytes=B] [max-inflight=K] [election=T] [heartbeat=T]
//   campaign ID | tick ID [count=N] | tick-election ID | tick-heartbeat ID
//   propose ID DATA [count=OFFSETS]
//   process-ready ID...       handle each node's ready: persist, queue messages, apply
//   deliver-msgs [from=ID] [to=ID] | deliver-msgs drop=(IDS)   (drop: discard messages to IDS)
//   stabilize [IDS...] [quiet] readies and deliveries until nothing happens
//   isolate ID | heal         messages from or to an isolated node are dropped on delivery
//   transfer-leadership from=ID to=ID
//   add-voter ID | add-learner ID | promote ID | remove-node ID   [leader=ID]
//   status ID | log ID | crash ID | restart ID [no-vote-until=INDEX]
//   compact ID INDEX          drop persisted entries before INDEX (retention)
//   damage ID INDEX           (crashed node) its log lost every entry from INDEX
//                             on, committed or not, as recovery from a damaged
//                             range would; its commit is clamped to the new end
//   check                     cross-node safety: one leader per term, log matching,
//                             committed entries identical everywhere, commit monotonic
#pragma once

#include <string>
#include <vector>

namespace kappa::raft::testing {

struct script_block {
  int line = 0;          // of the command, 1-based
  std::string preamble;  // comment lines and the command line, as written
  std::string command;
  std::string expected;
  std::string actual;
};

// Runs every block of the script text and fills in `actual`.
std::vector<script_block> run_script(const std::string& text);
// The script text with each block's output replaced by `actual`.
std::string render_script(const std::vector<script_block>& blocks);

}  // namespace kappa::raft::testing
