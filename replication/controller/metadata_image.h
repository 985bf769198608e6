// The cluster metadata image: what every broker knows about the cluster,
// built by applying the committed records of the __controller Raft group in
// order (Kafka KRaft's MetadataImage). Pure values and pure functions: no
// threads, no I/O.
//
//  - apply(): a committed record -> the next image. Deterministic: every
//    broker that applies the same records holds the same image.
//  - plan(): the controller leader turns a command into the records to
//    append, checking it against the current image (and the live brokers for
//    placement). A command that cannot be done is an error and appends
//    nothing.
//
// Records travel as protobuf (kappa.internal.v1.MetadataRecord, see
// proto/kappa/internal/v1/controller.proto), one per Kafka record inside the
// __controller log's record batches.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/format/result.h"

namespace kappa::controller {

struct broker_info {
  int32_t id = 0;
  std::string client_address;    // kappa.v1 API, host:port
  std::string internal_address;  // kappa.internal.v1 Peer/Controller, host:port
  bool operator==(const broker_info&) const = default;
};

struct partition_info {
  // The replica set; replicas[0] is the preferred leader.
  std::vector<int32_t> replicas;
  // Non-empty while a reassignment moves the set to `target`.
  std::vector<int32_t> target;
  bool operator==(const partition_info&) const = default;
};

struct topic_info {
  std::string name;
  uint64_t id = 0;  // unique for the cluster's life: a re-created name gets a new id
  std::vector<partition_info> partitions;
  std::map<std::string, std::string> configs;  // Kafka-named overrides, as given
  bool operator==(const topic_info&) const = default;
};

struct metadata_image {
  int64_t offset = -1;  // the last applied __controller offset
  std::map<int32_t, broker_info> brokers;
  std::map<std::string, topic_info> topics;
  uint64_t next_topic_id = 1;
  int64_t next_producer_id = 0;  // the next unallocated producer id block start
  bool operator==(const metadata_image&) const = default;
};

// --- records (what the log holds) ---
struct register_broker_record { broker_info broker; };
struct create_topic_record { topic_info topic; };
struct delete_topic_record { std::string name; };
struct set_configs_record { std::string name; std::map<std::string, std::string> configs; };
// Sets a partition's replica set and/or reassignment target.
struct set_partition_record {
  std::string topic;
  int32_t partition = 0;
  partition_info info;
};
struct producer_ids_record { int64_t start = 0; int64_t count = 0; };
using metadata_record = std::variant<register_broker_record, create_topic_record,
                                     delete_topic_record, set_configs_record,
                                     set_partition_record, producer_ids_record>;

std::string encode_record(const metadata_record& r);
Result<metadata_record> decode_record(const std::string& bytes);

// Applies one committed record at `offset`. An error means a record that
// plan() would never have produced (a bug or corruption): the caller stops.
Status apply(metadata_image& image, const metadata_record& r, int64_t offset);

// --- commands (what callers ask the controller for) ---
struct create_topic_command {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // validated by the caller
};
struct delete_topic_command { std::string name; };
struct alter_configs_command {
  std::string name;
  std::map<std::string, std::string> configs;  // the complete new overrides
};
struct reassign_command {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;  // the new set; [0] = the new preferred leader
};
// Sent by the partition leader when its Raft membership equals the target.
struct complete_reassign_command {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;
};
struct register_broker_command { broker_info broker; };
struct allocate_producer_ids_command { int64_t count = 1000; };
using command = std::variant<create_topic_command, delete_topic_command, alter_configs_command,
                             reassign_command, complete_reassign_command,
                             register_broker_command, allocate_producer_ids_command>;

// The records that carry out `cmd`, or why not. `live` = brokers alive now
// (registered and heartbeating), for placement. Errors use
// kappa::controller::errc numbers equal to the public API's (Kafka's):
// topic_already_exists, unknown_topic_or_partition,
// invalid_replication_factor (more replicas than live brokers: the message
// says how many are live), invalid_partitions, invalid_request (unknown
// broker id in a reassignment), reassignment_in_progress.
// Placement: replicas spread round-robin over the live brokers (sorted by
// id) starting at a rotating offset, so replicas and preferred leaders
// (replicas[0]) are even across brokers, as Kafka's rack-unaware assignment.
Result<std::vector<metadata_record>> plan(const metadata_image& image, const command& cmd,
                                          const std::vector<int32_t>& live);

}  // namespace kappa::controller
