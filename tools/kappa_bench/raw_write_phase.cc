// The raw disk baseline: what the storage engine is judged against. It uses
// POSIX directly rather than storage::env so that nothing of Kappa is in it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "tools/kappa_bench/phases.h"

namespace kappa::bench {

Result<throughput> run_raw_write(const std::string& path, uint64_t total_bytes,
                                 uint64_t chunk_bytes, bool sync_each_chunk, std::FILE* human) {
  // Non-zero, varied bytes: a filesystem or device that special-cases zeros
  // would flatter the baseline.
  std::vector<uint8_t> chunk(chunk_bytes);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<uint8_t>(i * 131 + 7);

  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  progress prog(human, sync_each_chunk ? "raw synced" : "raw buffered", total_bytes);
  stopwatch clock;
  Status failed;
  uint64_t written = 0;
  while (written < total_bytes && failed.ok()) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_bytes, total_bytes - written));
    size_t done = 0;
    while (done < want) {
      ssize_t n = ::write(fd, chunk.data() + done, want - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed = Status::from_errno(n < 0 ? errno : EIO, "write " + path);
        break;
      }
      done += static_cast<size_t>(n);
    }
    written += done;
    if (failed.ok() && sync_each_chunk && ::fdatasync(fd) != 0) {
      failed = Status::from_errno(errno, "fdatasync " + path);
    }
    prog.add(done);
  }
  if (failed.ok() && !sync_each_chunk && ::fdatasync(fd) != 0) {
    failed = Status::from_errno(errno, "fdatasync " + path);
  }
  throughput t{written, clock.seconds()};
  ::close(fd);
  ::unlink(path.c_str());
  if (!failed.ok()) return failed;
  return t;
}

}  // namespace kappa::bench
