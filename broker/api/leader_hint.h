// Leader hints for the data-plane handlers (Produce, Fetch, FetchStream,
// ListOffsets): consumers and producers talk to leaders, as Kafka clients
// do by default; elsewhere a partition answers NOT_LEADER_OR_FOLLOWER with
// where the leader is, or LEADER_NOT_AVAILABLE when nobody knows.
// Implemented in api/common.cc. Thread safety: any thread.
#pragma once

#include <string>

#include "broker/api/services.h"

namespace kappa::broker {

// Fills `out` from pm.leader_of(topic, p).
void set_leader_hint(partition_manager& pm, const std::string& topic, int32_t p,
                     v1::LeaderHint* out);

// The error a replica that does not lead `topic`-`p` answers (`local` may be
// null: the partition has no replica on this broker): not_leader_or_follower
// with a message for people, or leader_not_available when no leader is
// known. Ok when `local` leads.
Status check_leader(partition_manager& pm, const std::string& topic, int32_t p,
                    const partition* local);

// The error for a partition this broker has no replica of: not leader
// (with the hint) when the topic has that partition, else
// unknown_topic_or_partition.
Status missing_replica(partition_manager& pm, const std::string& topic, int32_t p);

// Whether `st` wants a LeaderHint beside it.
bool wants_leader_hint(const Status& st);

}  // namespace kappa::broker
