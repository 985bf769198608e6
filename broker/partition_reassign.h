// Replica reassignment of one partition, planned one Raft membership change
// at a time (Raft dissertation §4.1: single-server changes need no joint
// consensus). A pure function of the leader's group status, so the policy is
// unit-tested without a running group; partition::reassign_step applies it.
//
// Order, growing before shrinking so the group never has fewer voters than
// min(current, target):
//   1. add a target replica missing from the membership, as a learner;
//   2. promote a target learner once it is in sync (its match within one
//      batch of the leader's log end); target learners still behind: wait;
//   3. remove a voter or learner not in the target (not the leader);
//   4. the leader itself is not in the target: transfer leadership to an
//      in-sync target voter (the new leader removes the old one on the next
//      step); none in sync: wait;
//   5. voters == target and no stray learner: done.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "replication/group/raft_group.h"

namespace kappa::broker {

struct reassign_action {
  enum class kind { done, wait, change, transfer } what = kind::wait;
  raft::config_change change{raft::config_change::kind::add_learner, raft::no_node};
  raft::node_id transfer_to = raft::no_node;
  std::string reason;  // for logs
};

// `st` is the leader's status (`self` leads). Errors: errc::invalid_request
// when `target` is empty or holds an id <= 0.
Result<reassign_action> plan_reassign_step(const replication::group_status& st, raft::node_id self,
                                           const std::vector<int32_t>& target);

}  // namespace kappa::broker
