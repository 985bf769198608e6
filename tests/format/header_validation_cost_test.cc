// Storage recovery runs header_and_crc validation over whole segments, so it
// must not allocate. Under AddressSanitizer (the Debug build) its malloc hook
// counts allocations to prove it; other builds only check the speed.
#include <catch2/catch.hpp>

#include <chrono>

#include "format_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
// From LLVM's <sanitizer/allocator_interface.h>, which GCC does not ship;
// GCC's libasan exports it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             size_t),
                                                         void (*free_hook)(const volatile void*));
#define KAPPA_COUNT_ALLOCATIONS 1
namespace {
thread_local size_t g_allocations = 0;
void count_malloc(const volatile void*, size_t) {
  ++g_allocations;
}
void ignore_free(const volatile void*) {}
}  // namespace
#endif

using namespace kappa;
using namespace kappa::format;
using namespace kappa::format::testing;

TEST_CASE("HeaderAndCrcValidationDoesNotAllocate") {
  byte_buffer segment;
  batch_options o;
  for (int i = 0; i < 200; ++i) {
    o.codec = static_cast<compression>(i % 5);
    byte_buffer b = sample_batch(o);
    stamp_batch(b, o.base_offset, 1);
    o.base_offset += 3;
    segment.insert(segment.end(), b.begin(), b.end());
  }
  const validation_limits limits;
#if KAPPA_COUNT_ALLOCATIONS
  // Hooks cannot be uninstalled; a later call replaces them with no-ops.
  REQUIRE(__sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free) != 0);
  const size_t before = g_allocations;
#endif
  size_t pos = 0, batches = 0;
  while (pos < segment.size()) {
    auto h =
        validate_batch(byte_view(segment).subspan(pos), limits, validation_depth::header_and_crc);
    if (!h.ok()) break;
    pos += h->size_bytes();
    ++batches;
  }
#if KAPPA_COUNT_ALLOCATIONS
  // Read before any CHECK: Catch's reporting allocates.
  const size_t allocations = g_allocations - before;
  CHECK(allocations == 0);
#endif
  CHECK(batches == 200);
}

TEST_CASE("HeaderAndCrcValidationKeepsUpWithASegment") {
  // 64 MiB of 64 KiB batches. Even in a sanitized debug build this takes a
  // fraction of a second; the bound only catches an accidental per-byte
  // slow path (decoding records, copying payloads).
  std::vector<record> rs(1);
  rs[0].value = std::string(64 * 1024 - 200, 'x');
  const byte_buffer one = *build_batch({}, rs);
  byte_buffer segment;
  for (int i = 0; i < 1024; ++i) segment.insert(segment.end(), one.begin(), one.end());
  const auto start = std::chrono::steady_clock::now();
  auto headers = validate_batches(segment, {}, validation_depth::header_and_crc);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  REQUIRE(headers.ok());
  CHECK(headers->size() == 1024);
  WARN("header_and_crc over 64 MiB: " << ms << " ms");
  CHECK(ms < 3000);
}
