// metadata_file: atomic, checksummed small files.
#include <catch2/catch.hpp>

#include "log_test_util.h"
#include "storage/metadata_file.h"

namespace kappa::storage::test {

TEST_CASE("metadata_file_round_trips_and_replaces_atomically", "[metadata]") {
  fault_fixture f;
  REQUIRE(f.fe.create_dirs("/m").ok());
  REQUIRE(write_metadata_file(f.fe, "/m/x", 3, as_bytes("first")).ok());
  REQUIRE(write_metadata_file(f.fe, "/m/x", 4, as_bytes("second")).ok());
  f.fe.crash();
  auto m = read_metadata_file(f.fe, "/m/x");
  REQUIRE(m.ok());
  CHECK(m->version == 4);
  CHECK(as_chars(m->payload) == "second");
  CHECK(read_metadata_file(f.fe, "/m/missing").status().code() == errc::not_found);
}

TEST_CASE("metadata_file_with_a_flipped_bit_is_a_bad_checkpoint", "[metadata]") {
  fault_fixture f;
  REQUIRE(f.fe.create_dirs("/m").ok());
  REQUIRE(write_metadata_file(f.fe, "/m/x", 1, as_bytes("payload")).ok());
  REQUIRE(f.fe.flip_bit("/m/x", kMetadataHeaderBytes + 2, 0).ok());
  auto m = read_metadata_file(f.fe, "/m/x");
  REQUIRE(!m.ok());
  CHECK(m.status().code() == errc::bad_checkpoint);
  CHECK_THAT(m.status().message(), Catch::Contains("CRC32C"));
}

TEST_CASE("metadata_file_cut_short_is_a_bad_checkpoint", "[metadata]") {
  fault_fixture f;
  REQUIRE(f.fe.create_dirs("/m").ok());
  REQUIRE(write_metadata_file(f.fe, "/m/x", 1, as_bytes("payload")).ok());
  {
    auto fh = f.fe.open("/m/x", open_mode::read_write);
    REQUIRE(fh.ok());
    REQUIRE((*fh)->truncate(kMetadataHeaderBytes + 3).ok());
  }
  auto m = read_metadata_file(f.fe, "/m/x");
  CHECK(m.status().code() == errc::bad_checkpoint);
  CHECK_THAT(m.status().message(), Catch::Contains("payload bytes"));
}

TEST_CASE("a_damaged_checkpoint_makes_the_log_recover_everything", "[metadata][recovery]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  for (int i = 0; i < 20; ++i) {
    auto b = make_batch(2, 1000 + i);
    REQUIRE(l->append(b, 0).ok());
  }
  REQUIRE(l->close().ok());
  REQUIRE(f.fe.flip_bit(f.dir + "/partition.checkpoint", kMetadataHeaderBytes + 1, 0).ok());
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->status().ok());
  CHECK(l->log_end_offset() == 40);
  CHECK(read_all(*l).size() == 20);
}

}  // namespace kappa::storage::test
