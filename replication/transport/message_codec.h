// raft::message <-> kappa.internal.v1.RaftMessage (peer.proto).
//
// The wire enums are the C++ enumerators plus one, so 0 on the wire means
// "not set". A type this build does not know (a newer peer, or a message
// type added to the core without a wire mapping yet) is an error naming the
// value, never a silent guess: the caller drops that one message.
//
// decode() takes `from` and `to` from the frame as they are; the transport
// overwrites both with the stream's identities.
//
// Thread safety: pure functions.
#pragma once

#include "proto/format/result.h"
#include "replication/raft/types.h"

namespace kappa::internal::v1 {
class RaftMessage;
}

namespace kappa::replication {

// Fails with transport_errc::unknown_message_type / unknown_entry_type when
// `m` holds an enumerator with no wire mapping; `out` is then unspecified.
Status encode_message(const raft::message& m, internal::v1::RaftMessage* out);
// The same, moving the entries' payloads out of `m` instead of copying.
Status encode_message(raft::message&& m, internal::v1::RaftMessage* out);

// Fails with transport_errc::unknown_message_type / unknown_entry_type for
// unset or unknown enum values, invalid_message for an entry whose
// last_index < base_index; `out` is then unspecified.
Status decode_message(const internal::v1::RaftMessage& in, raft::message* out);
// The same, moving the entries' payloads out of `in` instead of copying.
Status decode_message(internal::v1::RaftMessage&& in, raft::message* out);

}  // namespace kappa::replication
