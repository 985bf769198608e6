// The gRPC services (kappa.v1.Broker, kappa.v1.Admin, kappa.v1.Group) over the callback
// API. Each method is defined in its own file (api/<method>.cc). Included
// only by those files and server.cc: it pulls in gRPC.
//
// Rules every handler follows: nothing blocks on a gRPC thread (appends go
// to partition strands, fsyncs and metadata writes to the blocking pool,
// waits are Asio timers); request-level failures are gRPC statuses with a
// clear message; per-partition failures are kappa.v1.ErrorCode values.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "broker/metrics.h"
#include "broker/partition_manager.h"
#include "kappa/v1/admin.grpc.pb.h"
#include "kappa/v1/broker.grpc.pb.h"
#include "kappa/v1/group.grpc.pb.h"

namespace kappa::broker {

namespace group {
class coordinator;
}

namespace v1 = ::kappa::v1;

class broker_service final : public v1::Broker::CallbackService {
 public:
  explicit broker_service(partition_manager& pm) : pm_(pm) {}

  grpc::ServerUnaryReactor* Produce(grpc::CallbackServerContext* ctx,
                                    const v1::ProduceRequest* req,
                                    v1::ProduceResponse* resp) override;
  grpc::ServerBidiReactor<v1::ProduceRequest, v1::ProduceResponse>* ProduceStream(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Fetch(grpc::CallbackServerContext* ctx, const v1::FetchRequest* req,
                                  v1::FetchResponse* resp) override;
  grpc::ServerWriteReactor<v1::FetchStreamResponse>* FetchStream(
      grpc::CallbackServerContext* ctx, const v1::FetchStreamRequest* req) override;
  grpc::ServerUnaryReactor* ListOffsets(grpc::CallbackServerContext* ctx,
                                        const v1::ListOffsetsRequest* req,
                                        v1::ListOffsetsResponse* resp) override;
  grpc::ServerUnaryReactor* Metadata(grpc::CallbackServerContext* ctx,
                                     const v1::MetadataRequest* req,
                                     v1::MetadataResponse* resp) override;
  grpc::ServerUnaryReactor* InitProducerId(grpc::CallbackServerContext* ctx,
                                           const v1::InitProducerIdRequest* req,
                                           v1::InitProducerIdResponse* resp) override;

 private:
  partition_manager& pm_;
};

class admin_service final : public v1::Admin::CallbackService {
 public:
  explicit admin_service(partition_manager& pm) : pm_(pm) {}

  grpc::ServerUnaryReactor* CreateTopics(grpc::CallbackServerContext* ctx,
                                         const v1::CreateTopicsRequest* req,
                                         v1::CreateTopicsResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteTopics(grpc::CallbackServerContext* ctx,
                                         const v1::DeleteTopicsRequest* req,
                                         v1::DeleteTopicsResponse* resp) override;
  grpc::ServerUnaryReactor* DescribeTopics(grpc::CallbackServerContext* ctx,
                                           const v1::DescribeTopicsRequest* req,
                                           v1::DescribeTopicsResponse* resp) override;
  grpc::ServerUnaryReactor* DescribeConfigs(grpc::CallbackServerContext* ctx,
                                            const v1::DescribeConfigsRequest* req,
                                            v1::DescribeConfigsResponse* resp) override;
  grpc::ServerUnaryReactor* AlterConfigs(grpc::CallbackServerContext* ctx,
                                         const v1::AlterConfigsRequest* req,
                                         v1::AlterConfigsResponse* resp) override;
  grpc::ServerUnaryReactor* DescribeCluster(grpc::CallbackServerContext* ctx,
                                            const v1::DescribeClusterRequest* req,
                                            v1::DescribeClusterResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteRecords(grpc::CallbackServerContext* ctx,
                                          const v1::DeleteRecordsRequest* req,
                                          v1::DeleteRecordsResponse* resp) override;
  grpc::ServerUnaryReactor* ReassignPartition(grpc::CallbackServerContext* ctx,
                                              const v1::ReassignPartitionRequest* req,
                                              v1::ReassignPartitionResponse* resp) override;
  grpc::ServerUnaryReactor* RebalanceLeaders(grpc::CallbackServerContext* ctx,
                                             const v1::RebalanceLeadersRequest* req,
                                             v1::RebalanceLeadersResponse* resp) override;

 private:
  partition_manager& pm_;
};

// Consumer groups (api/group_*.cc): thin handlers over the coordinator
// (broker/group/coordinator.h), which routes, serializes and answers.
class group_service final : public v1::Group::CallbackService {
 public:
  group_service(partition_manager& pm, group::coordinator& c) : pm_(pm), coordinator_(c) {}

  grpc::ServerUnaryReactor* FindCoordinator(grpc::CallbackServerContext* ctx,
                                            const v1::FindCoordinatorRequest* req,
                                            v1::FindCoordinatorResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::GroupHeartbeatRequest* req,
                                      v1::GroupHeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* CommitOffsets(grpc::CallbackServerContext* ctx,
                                          const v1::CommitOffsetsRequest* req,
                                          v1::CommitOffsetsResponse* resp) override;
  grpc::ServerUnaryReactor* FetchOffsets(grpc::CallbackServerContext* ctx,
                                         const v1::FetchOffsetsRequest* req,
                                         v1::FetchOffsetsResponse* resp) override;
  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* ctx,
                                       const v1::ListGroupsRequest* req,
                                       v1::ListGroupsResponse* resp) override;
  grpc::ServerUnaryReactor* DescribeGroup(grpc::CallbackServerContext* ctx,
                                          const v1::DescribeGroupRequest* req,
                                          v1::DescribeGroupResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteGroup(grpc::CallbackServerContext* ctx,
                                        const v1::DeleteGroupRequest* req,
                                        v1::DeleteGroupResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteOffsets(grpc::CallbackServerContext* ctx,
                                          const v1::DeleteOffsetsRequest* req,
                                          v1::DeleteOffsetsResponse* resp) override;

 private:
  partition_manager& pm_;
  group::coordinator& coordinator_;
};

// Helpers shared by the handlers (api/common.cc).

// Records the call in the metrics and finishes the reactor.
class call_timer {
 public:
  call_timer(partition_manager& pm, api a)
      : pm_(pm), api_(a), t0_(std::chrono::steady_clock::now()) {}
  void finish(grpc::ServerUnaryReactor* r, const grpc::Status& st) const;
  void record(const grpc::Status& st) const;

 private:
  partition_manager& pm_;
  api api_;
  std::chrono::steady_clock::time_point t0_;
};

// The per-partition error code and message of a Status.
v1::ErrorCode to_error_code(const Status& st);

// Runs `work` on the admin pool (metadata writes, topic creation: calls
// that may fsync or wait).
void run_blocking(partition_manager& pm, std::function<void()> work);

// Produce's core, shared by Produce and ProduceStream: appends every
// partition of `req` (its record bytes are moved to the partitions) and
// calls `done(response)` once every partition's acks are satisfied (at once
// for ACKS_NONE). `done` may run before produce_request returns.
void produce_request(partition_manager& pm, v1::ProduceRequest req,
                     std::function<void(v1::ProduceResponse)> done);

}  // namespace kappa::broker
