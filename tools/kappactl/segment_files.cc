#include "tools/kappactl/segment_files.h"

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace kappa::kappactl {
namespace {

constexpr size_t kOffsetDigits = 20;

bool is_segment_name(const std::string& name) {
  if (name.size() != kOffsetDigits + 4 || !name.ends_with(".log")) return false;
  return std::all_of(name.begin(), name.begin() + kOffsetDigits,
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

Result<std::vector<std::string>> list_segments(const std::string& path) {
  storage::env& e = storage::posix_env();
  if (!e.exists(path)) return Status::from_errno(ENOENT, path);
  if (!e.is_dir(path)) return std::vector<std::string>{path};
  KAPPA_ASSIGN_OR_RETURN(std::vector<std::string> names, e.list(path));
  std::erase_if(names, [](const std::string& n) { return !is_segment_name(n); });
  // Names are zero-padded base offsets, so name order is offset order.
  std::sort(names.begin(), names.end());
  std::string dir = path.ends_with('/') ? path : path + "/";
  for (std::string& n : names) n = dir + n;
  return names;
}

Result<mapped_segment> map_segment(const std::string& path) {
  storage::env& e = storage::posix_env();
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<storage::file> f, e.open(path, storage::open_mode::read_only));
  KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
  // The mapping outlives the file handle (env.h), so the handle closes here.
  KAPPA_ASSIGN_OR_RETURN(auto region, f->map(size));
  return mapped_segment{std::move(region)};
}

}  // namespace kappa::kappactl
