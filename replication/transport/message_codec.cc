#include "replication/transport/message_codec.h"

#include <string>
#include <type_traits>
#include <utility>

#include "kappa/internal/v1/peer.pb.h"
#include "replication/transport/errc.h"

namespace kappa::replication {
namespace {

namespace pb = internal::v1;

// The last enumerators that have a wire value. A type appended to the core's
// enums gets an error until peer.proto and these lines learn it; the
// round-trip test covers every value up to here.
constexpr auto kLastMessageType = raft::message_type::install_start;
constexpr auto kLastEntryType = raft::entry_type::config;
static_assert(static_cast<int>(kLastMessageType) + 1 == pb::MessageType_MAX);
static_assert(static_cast<int>(kLastEntryType) + 1 == pb::EntryType_MAX);

// Entry is `const raft::entry` (copy the payload) or `raft::entry` (move it).
template <typename Entry>
Status encode_entry(Entry& e, pb::Entry* out) {
  if (e.type > kLastEntryType) {
    return transport_error(transport_errc::unknown_entry_type,
                           "raft entry type " + std::to_string(static_cast<int>(e.type)) +
                               " has no wire value in peer.proto");
  }
  out->set_term(e.term.value);
  out->set_base_index(e.base_index.value);
  out->set_last_index(e.last_index.value);
  out->set_type(static_cast<pb::EntryType>(static_cast<int>(e.type) + 1));
  if constexpr (std::is_const_v<Entry>) {
    out->set_payload(e.payload);
  } else {
    out->set_payload(std::move(e.payload));
  }
  return {};
}

// Entry is `const pb::Entry` (copy the payload) or `pb::Entry` (move it).
template <typename Entry>
Status decode_entry(Entry& in, raft::entry* out) {
  int wire = in.type();
  if (wire <= 0 || wire > static_cast<int>(kLastEntryType) + 1) {
    return transport_error(transport_errc::unknown_entry_type,
                           "entry at offset " + std::to_string(in.base_index()) +
                               " has unknown EntryType " + std::to_string(wire));
  }
  if (in.last_index() < in.base_index()) {
    return transport_error(transport_errc::invalid_message,
                           "entry [" + std::to_string(in.base_index()) + "," +
                               std::to_string(in.last_index()) + "] ends before it starts");
  }
  out->term = raft::term_id(in.term());
  out->base_index = raft::log_index(in.base_index());
  out->last_index = raft::log_index(in.last_index());
  out->type = static_cast<raft::entry_type>(wire - 1);
  if constexpr (std::is_const_v<Entry>) {
    out->payload = in.payload();
  } else {
    out->payload = std::move(*in.mutable_payload());
  }
  return {};
}

// Msg is `const raft::message` (copy payloads) or `raft::message` (move).
template <typename Msg>
Status encode(Msg& m, pb::RaftMessage* out) {
  if (m.type > kLastMessageType) {
    return transport_error(transport_errc::unknown_message_type,
                           "raft message type " + std::to_string(static_cast<int>(m.type)) +
                               " has no wire value in peer.proto");
  }
  out->Clear();
  out->set_type(static_cast<pb::MessageType>(static_cast<int>(m.type) + 1));
  out->set_from(m.from.value);
  out->set_to(m.to.value);
  out->set_term(m.term.value);
  out->set_log_term(m.log_term.value);
  out->set_index(m.index.value);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (auto& e : m.entries) KAPPA_RETURN_IF_ERROR(encode_entry(e, out->add_entries()));
  out->set_commit(m.commit.value);
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint.value);
  out->set_transfer(m.transfer);
  out->set_lost_entries(m.lost_entries);
  return {};
}

}  // namespace

Status encode_message(const raft::message& m, pb::RaftMessage* out) {
  return encode(m, out);
}

Status encode_message(raft::message&& m, pb::RaftMessage* out) {
  return encode(m, out);
}

namespace {

// Msg is `const pb::RaftMessage` (copy payloads) or `pb::RaftMessage` (move).
template <typename Msg>
Status decode(Msg& in, raft::message* out) {
  int wire = in.type();
  if (wire <= 0 || wire > static_cast<int>(kLastMessageType) + 1) {
    return transport_error(transport_errc::unknown_message_type,
                           "unknown RaftMessage type " + std::to_string(wire) +
                               (wire == 0 ? " (not set)" : " (sent by a newer broker?)"));
  }
  out->type = static_cast<raft::message_type>(wire - 1);
  out->from = raft::node_id(in.from());
  out->to = raft::node_id(in.to());
  out->term = raft::term_id(in.term());
  out->log_term = raft::term_id(in.log_term());
  out->index = raft::log_index(in.index());
  out->entries.clear();
  out->entries.resize(static_cast<size_t>(in.entries_size()));
  auto& entries = [&]() -> auto& {
    if constexpr (std::is_const_v<Msg>) {
      return in.entries();
    } else {
      return *in.mutable_entries();
    }
  }
  ();
  size_t i = 0;
  for (auto& e : entries) KAPPA_RETURN_IF_ERROR(decode_entry(e, &out->entries[i++]));
  out->commit = raft::log_index(in.commit());
  out->reject = in.reject();
  out->reject_hint = raft::log_index(in.reject_hint());
  out->transfer = in.transfer();
  out->lost_entries = in.lost_entries();
  return {};
}

}  // namespace

Status decode_message(const pb::RaftMessage& in, raft::message* out) {
  return decode(in, out);
}

Status decode_message(pb::RaftMessage&& in, raft::message* out) {
  return decode(in, out);
}

}  // namespace kappa::replication
