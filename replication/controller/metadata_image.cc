// The record codec and apply(): the deterministic half of the image.
#include "replication/controller/metadata_image.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "replication/controller/errc.h"
#include "replication/controller/wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace kappa::controller {

std::string encode_record(const metadata_record& r) {
  wire::pb::MetadataRecord m;
  wire::to_proto(r, &m);
  std::string out;
  // Deterministic so that equal records are equal bytes on every broker.
  {
    google::protobuf::io::StringOutputStream s(&out);
    google::protobuf::io::CodedOutputStream c(&s);
    c.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&c);
  }
  return out;
}

Result<metadata_record> decode_record(const std::string& bytes) {
  wire::pb::MetadataRecord m;
  if (!m.ParseFromString(bytes)) {
    return error(errc::unknown_server_error,
                 "metadata record: undecodable (" + std::to_string(bytes.size()) + " bytes)");
  }
  auto r = wire::from_proto(m);
  if (!r.ok()) return error(errc::unknown_server_error, r.status().message());
  return r;
}

namespace {

Status bad(const std::string& what) {
  return error(errc::unknown_server_error, what);
}

Status apply_one(metadata_image& img, const register_broker_record& r) {
  if (r.broker.id <= 0) return bad("register_broker: broker id " + std::to_string(r.broker.id));
  img.brokers[r.broker.id] = r.broker;
  return {};
}

Status apply_one(metadata_image& img, const create_topic_record& r) {
  if (r.topic.name.empty()) return bad("create_topic: empty name");
  if (img.topics.count(r.topic.name)) return bad("create_topic: " + r.topic.name + " exists");
  if (r.topic.partitions.empty())
    return bad("create_topic: " + r.topic.name + " has no partitions");
  img.next_topic_id = std::max(img.next_topic_id, r.topic.id + 1);
  img.topics.emplace(r.topic.name, r.topic);
  return {};
}

Status apply_one(metadata_image& img, const delete_topic_record& r) {
  if (img.topics.erase(r.name) == 0) return bad("delete_topic: no topic " + r.name);
  return {};
}

Status apply_one(metadata_image& img, const set_configs_record& r) {
  auto it = img.topics.find(r.name);
  if (it == img.topics.end()) return bad("set_configs: no topic " + r.name);
  it->second.configs = r.configs;
  return {};
}

Status apply_one(metadata_image& img, const set_partition_record& r) {
  auto it = img.topics.find(r.topic);
  if (it == img.topics.end()) return bad("set_partition: no topic " + r.topic);
  auto& parts = it->second.partitions;
  if (r.partition < 0 || static_cast<size_t>(r.partition) >= parts.size()) {
    return bad("set_partition: no partition " + r.topic + "-" + std::to_string(r.partition));
  }
  if (r.info.replicas.empty()) return bad("set_partition: empty replica set");
  parts[static_cast<size_t>(r.partition)] = r.info;
  return {};
}

Status apply_one(metadata_image& img, const producer_ids_record& r) {
  // A block below the next start would hand out ids twice.
  if (r.count <= 0 || r.start < img.next_producer_id) {
    return bad("producer_ids: block [" + std::to_string(r.start) + ", +" + std::to_string(r.count) +
               ") overlaps next " + std::to_string(img.next_producer_id));
  }
  img.next_producer_id = r.start + r.count;
  return {};
}

}  // namespace

Status apply(metadata_image& image, const metadata_record& r, int64_t offset) {
  if (offset <= image.offset) {
    return bad("apply: offset " + std::to_string(offset) + " not after the image's " +
               std::to_string(image.offset));
  }
  // Each apply_one checks everything before it changes anything, so a
  // refused record leaves the image untouched.
  KAPPA_RETURN_IF_ERROR(std::visit([&](const auto& x) { return apply_one(image, x); }, r));
  image.offset = offset;
  return {};
}

}  // namespace kappa::controller
