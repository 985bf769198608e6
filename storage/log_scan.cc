// storage::log_scan: read-only verification (log_scan.h). Judges damage with
// batch_walk, the same code recovery uses.
#include "storage/log_scan.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "storage/batch_walk.h"
#include "storage/segment.h"

namespace kappa::storage {
namespace {

struct mapped_input {
  std::shared_ptr<const mapped_region> map;
  segment_input in;
};

Result<mapped_input> map_segment(env& e, const std::string& path, int64_t base_offset) {
  KAPPA_ASSIGN_OR_RETURN(auto f, e.open(path, open_mode::read_only));
  KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
  KAPPA_ASSIGN_OR_RETURN(auto m, f->map(size));
  mapped_input out{m, segment_input{path, base_offset, m->bytes().first(size)}};
  return out;
}

scan_report to_report(const scan_result& r, const std::vector<segment_input>& inputs) {
  scan_report rep;
  rep.verdict = r.verdict;
  rep.batches = r.batches;
  rep.next_offset = r.next_offset;
  if (r.verdict != scan_verdict::clean) {
    rep.segment_path = inputs[r.segment].path;
    rep.position = r.position;
    rep.message = r.message;
  }
  return rep;
}

Result<scan_report> scan(env& e, const std::vector<std::pair<std::string, int64_t>>& files) {
  std::vector<mapped_input> maps;
  std::vector<segment_input> inputs;
  for (const auto& [path, base] : files) {
    KAPPA_ASSIGN_OR_RETURN(auto m, map_segment(e, path, base));
    inputs.push_back(m.in);
    maps.push_back(std::move(m));
  }
  return to_report(scan_segments(inputs, {}), inputs);
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<scan_report> scan_partition_dir(env& e, const std::string& dir) {
  KAPPA_ASSIGN_OR_RETURN(auto names, e.list(dir));
  std::vector<std::pair<std::string, int64_t>> files;
  for (const auto& n : names) {
    if (auto base = segment::parse_log_name(n)) files.emplace_back(dir + "/" + n, *base);
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return scan(e, files);
}

Result<scan_report> scan_segment_file(env& e, const std::string& path) {
  auto base = segment::parse_log_name(base_name(path));
  return scan(e, {{path, base.value_or(-1)}});
}

}  // namespace kappa::storage
