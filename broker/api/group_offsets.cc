// CommitOffsets (answered after the commit on __consumer_offsets),
// FetchOffsets, DeleteOffsets.
#include "broker/api/group_call.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* group_service::CommitOffsets(grpc::CallbackServerContext* ctx,
                                                       const v1::CommitOffsetsRequest* req,
                                                       v1::CommitOffsetsResponse* resp) {
  return group_call(pm_, ctx, api::commit_offsets, resp,
                    [&](auto reply) { coordinator_.commit_offsets(*req, reply); });
}

grpc::ServerUnaryReactor* group_service::FetchOffsets(grpc::CallbackServerContext* ctx,
                                                      const v1::FetchOffsetsRequest* req,
                                                      v1::FetchOffsetsResponse* resp) {
  return group_call(pm_, ctx, api::fetch_offsets, resp,
                    [&](auto reply) { coordinator_.fetch_offsets(*req, reply); });
}

grpc::ServerUnaryReactor* group_service::DeleteOffsets(grpc::CallbackServerContext* ctx,
                                                       const v1::DeleteOffsetsRequest* req,
                                                       v1::DeleteOffsetsResponse* resp) {
  return group_call(pm_, ctx, api::delete_offsets, resp,
                    [&](auto reply) { coordinator_.delete_offsets(*req, reply); });
}

}  // namespace kappa::broker
