// Shared helpers for the env tests: one fixture that builds each env kind
// over a fresh root directory, and byte helpers.
#pragma once

#include <stdlib.h>

#include <memory>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "storage/env.h"
#include "storage/fault_env.h"

namespace kappa::storage::test {

enum class env_kind { posix, mem, fault_over_mem };

inline const char* kind_name(env_kind k) {
  switch (k) {
    case env_kind::posix: return "posix";
    case env_kind::mem: return "mem";
    case env_kind::fault_over_mem: return "fault_over_mem";
  }
  return "?";
}

// An env of the given kind and an empty directory `root` in it. A posix root
// is a fresh temp dir under /tmp, removed on destruction.
struct env_fixture {
  explicit env_fixture(env_kind kind) : kind(kind) {
    switch (kind) {
      case env_kind::posix: {
        char tmpl[] = "/tmp/kappa_env_test_XXXXXX";
        char* dir = ::mkdtemp(tmpl);
        REQUIRE(dir != nullptr);
        root = dir;
        e = &posix_env();
        break;
      }
      case env_kind::mem:
        owned = new_mem_env(uint64_t{1} << 24);
        e = owned.get();
        root = "/root";
        REQUIRE(e->create_dirs(root).ok());
        break;
      case env_kind::fault_over_mem:
        base = new_mem_env(uint64_t{1} << 24);
        owned = std::make_unique<fault_env>(*base);
        e = owned.get();
        root = "/root";
        REQUIRE(e->create_dirs(root).ok());
        break;
    }
  }
  ~env_fixture() {
    if (kind == env_kind::posix) (void)posix_env().remove_all(root);
  }
  env_fixture(const env_fixture&) = delete;
  env_fixture& operator=(const env_fixture&) = delete;

  std::string path(std::string_view name) const { return root + "/" + std::string(name); }

  env_kind kind;
  std::unique_ptr<env> base;  // only for fault_over_mem; outlives `owned`
  std::unique_ptr<env> owned;
  env* e = nullptr;
  std::string root;
};

inline std::string read_all(file& f) {
  auto size = f.size();
  REQUIRE(size.ok());
  std::string out(*size, '\0');
  auto n = f.pread(0, {reinterpret_cast<uint8_t*>(out.data()), out.size()});
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

inline std::string read_file(env& e, const std::string& path) {
  auto f = e.open(path, open_mode::read_only);
  REQUIRE(f.ok());
  return read_all(**f);
}

inline void write_file(env& e, const std::string& path, std::string_view content) {
  auto f = e.open(path, open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->truncate(0).ok());
  REQUIRE((*f)->pwrite(0, as_bytes(content)).ok());
}

}  // namespace kappa::storage::test
