// Helpers shared by the API handlers.
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/runtime.h"

namespace kappa::broker {

void call_timer::record(const grpc::Status& st) const {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  pm_.stats().request(api_, s, int(st.error_code()));
}

void call_timer::finish(grpc::ServerUnaryReactor* r, const grpc::Status& st) const {
  record(st);
  r->Finish(st);
}

v1::ErrorCode to_error_code(const Status& st) {
  const int c = api_error_code(st);
  return v1::ErrorCode_IsValid(c) ? v1::ErrorCode(c) : v1::UNKNOWN_SERVER_ERROR;
}

void run_blocking(partition_manager& pm, std::function<void()> work) {
  asio::post(pm.rt().admin, std::move(work));
}

}  // namespace kappa::broker
