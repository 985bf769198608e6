// Conversions between the controller's C++ values (metadata_image.h,
// controller.h) and their protobuf form (kappa.internal.v1, controller.proto).
// Internal to replication/controller: it pulls in generated headers, so keep
// it out of public headers.
//
// Every from_proto is total over any message the peer could send: a missing
// oneof or an impossible number is an invalid_request error, never a crash.
#pragma once

#include "kappa/internal/v1/controller.pb.h"
#include "proto/format/result.h"
#include "replication/controller/controller.h"
#include "replication/controller/metadata_image.h"

namespace kappa::controller::wire {

namespace pb = ::kappa::internal::v1;

void to_proto(const broker_info& b, pb::ControllerBrokerInfo* out);
broker_info from_proto(const pb::ControllerBrokerInfo& b);

void to_proto(const metadata_record& r, pb::MetadataRecord* out);
Result<metadata_record> from_proto(const pb::MetadataRecord& r);

// Sets the command oneof of `out` (other fields untouched).
void to_proto(const command& c, pb::SubmitRequest* out);
Result<command> command_from_proto(const pb::SubmitRequest& r);

void to_proto(const leader_entry& e, pb::PartitionLeader* out);
leader_entry from_proto(const pb::PartitionLeader& e);

}  // namespace kappa::controller::wire
