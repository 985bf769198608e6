// partition: leadership transfer and replica reassignment, applied on the
// leader's strand (the plan is partition_reassign.h's).
#include <spdlog/spdlog.h>

#include "broker/errc.h"
#include "broker/partition_internal.h"
#include "broker/partition_reassign.h"
#include "replication/raft/errc.h"

namespace kappa::broker {

void partition::transfer_leadership(int32_t to, std::function<void(Status)> done) {
  asio::post(strand_->strand, [self = shared_from_this(), to, done = std::move(done)] {
    if (self->retired_) return done(self->gone());
    if (!self->group_->is_leader()) return done(self->not_leader());
    if (to <= 0) return done(error(errc::invalid_request, "no node id " + std::to_string(to)));
    done(self->group_->transfer_leadership(raft::node_id(uint64_t(to))));
  });
}

void partition::reassign_step(std::vector<int32_t> target, std::function<void(Result<bool>)> done) {
  asio::post(strand_->strand,
             [self = shared_from_this(), target = std::move(target), done = std::move(done)] {
               if (self->retired_) return done(self->gone());
               if (!self->group_->is_leader()) return done(self->not_leader());
               const raft::node_id me(uint64_t(self->self_));
               auto plan = plan_reassign_step(self->group_->status(), me, target);
               if (!plan.ok()) return done(plan.status());
               switch (plan->what) {
                 case reassign_action::kind::done:
                   return done(true);
                 case reassign_action::kind::wait:
                   return done(false);
                 case reassign_action::kind::change: {
                   Status st = self->group_->change_membership(plan->change);
                   // The previous change is not committed yet: the next call retries.
                   if (st.code() == raft::errc::config_change_pending) return done(false);
                   if (!st.ok()) return done(st);
                   spdlog::info("{}: reassignment: {}", self->id_.dir_name(), plan->reason);
                   return done(false);
                 }
                 case reassign_action::kind::transfer: {
                   Status st = self->group_->transfer_leadership(plan->transfer_to);
                   if (st.code() == raft::errc::transfer_in_progress) return done(false);
                   if (!st.ok()) return done(st);
                   spdlog::info("{}: reassignment: {}", self->id_.dir_name(), plan->reason);
                   return done(false);
                 }
               }
               done(false);
             });
}

}  // namespace kappa::broker
