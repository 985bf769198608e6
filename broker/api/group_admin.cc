// ListGroups (the groups this broker coordinates), DescribeGroup (with each
// partition's high watermark and lag), DeleteGroup.
#include "broker/api/group_call.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* group_service::ListGroups(grpc::CallbackServerContext* ctx,
                                                    const v1::ListGroupsRequest* req,
                                                    v1::ListGroupsResponse* resp) {
  return group_call(pm_, ctx, api::list_groups, resp,
                    [&](auto reply) { coordinator_.list_groups(*req, reply); });
}

grpc::ServerUnaryReactor* group_service::DescribeGroup(grpc::CallbackServerContext* ctx,
                                                       const v1::DescribeGroupRequest* req,
                                                       v1::DescribeGroupResponse* resp) {
  return group_call(pm_, ctx, api::describe_group, resp,
                    [&](auto reply) { coordinator_.describe_group(*req, reply); });
}

grpc::ServerUnaryReactor* group_service::DeleteGroup(grpc::CallbackServerContext* ctx,
                                                     const v1::DeleteGroupRequest* req,
                                                     v1::DeleteGroupResponse* resp) {
  return group_call(pm_, ctx, api::delete_group, resp,
                    [&](auto reply) { coordinator_.delete_group(*req, reply); });
}

}  // namespace kappa::broker
