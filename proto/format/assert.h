// Always-on assertions (TigerBeetle style): an invariant that does not hold
// means the process cannot be trusted to continue, in every build type.
#pragma once

#include <cstdio>
#include <cstdlib>

#define KAPPA_ASSERT(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) [[unlikely]] {                                                         \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
