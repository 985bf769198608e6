// Lexical path helpers shared by mem_env and fault_env (private to storage/).
// They never touch the filesystem: mem_env has none, and fault_env must match
// a sync_dir("d/") with the files it created as "d//x".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kappa::storage::internal {

// Collapses repeated and trailing '/', "." and ".." (".." never climbs above
// the root, or above the start of a relative path). Absolute paths keep their
// leading '/'; an empty relative result is ".".
inline std::string normalize_path(std::string_view path) {
  const bool absolute = !path.empty() && path.front() == '/';
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = end + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

// The directory of a normalized path: "/a/b" -> "/a", "/a" -> "/", "a" -> ".".
inline std::string parent_path(const std::string& norm) {
  size_t slash = norm.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return norm.substr(0, slash);
}

// The last component of a normalized path.
inline std::string base_name(const std::string& norm) {
  size_t slash = norm.rfind('/');
  return slash == std::string::npos ? norm : norm.substr(slash + 1);
}

// True when `path` is `dir` or lies below it (both normalized).
inline bool is_within(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  if (dir == "/") return path.size() > 1 && path.front() == '/';
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

inline std::string join_path(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace kappa::storage::internal
