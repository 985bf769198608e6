#include "broker/topic_name.h"

#include <string>

#include "broker/errc.h"

namespace kappa::broker {

Status validate_topic_name(std::string_view name) {
  if (name.empty()) return error(errc::invalid_topic, "topic name is empty");
  if (name.size() > kTopicNameBytesMax) {
    return error(errc::invalid_topic, "topic name is " + std::to_string(name.size()) +
                                          " characters; at most 249 are allowed");
  }
  if (name == "." || name == "..") {
    return error(errc::invalid_topic, "topic name cannot be '.' or '..'");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      // Printable characters are quoted; others shown by value, so the
      // message itself stays printable.
      std::string shown = (c >= 0x20 && c < 0x7f) ? std::string("'") + c + "'"
                                                  : "byte " + std::to_string(uint8_t(c));
      return error(errc::invalid_topic, "topic name '" + std::string(name.substr(0, 64)) +
                                            "' has " + shown + " at position " +
                                            std::to_string(i) +
                                            "; only [a-zA-Z0-9._-] are allowed");
    }
  }
  return Status();
}

bool is_internal_topic(std::string_view name) { return name.starts_with("__"); }

bool is_reserved_topic(std::string_view name) { return name == kConsumerOffsetsTopic; }

Status check_client_may_write(std::string_view name) {
  if (!is_reserved_topic(name)) return Status();
  return error(errc::invalid_topic, "topic '" + std::string(name) +
                                        "' is internal: only the broker writes it (consumer group "
                                        "offsets and metadata go through the Group service)");
}

}  // namespace kappa::broker
