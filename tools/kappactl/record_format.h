// kcat-style output format strings for `kappactl consume --format`.
//
//   %t topic   %p partition   %o offset   %T timestamp (ms since the epoch)
//   %k key     %v value       %h headers as k1=v1,k2=v2
//   %K key length   %S value length (-1 for null)   %% a percent sign
//   \n newline  \t tab  \r carriage return  \\ backslash
//
// As in kcat, %t is the topic and %T the timestamp. A null key or value
// prints as nothing. An unknown %x or \x is kept as written.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "kappa/consumer.h"

namespace kappa::kappactl {

class record_format {
 public:
  // Parses `spec` once; formatting a record is then a walk over its pieces.
  explicit record_format(const std::string& spec);
  void append(const consumed_record& r, std::string& out) const;

 private:
  // A piece is literal text or a field letter.
  std::vector<std::variant<std::string, char>> pieces_;
};

}  // namespace kappa::kappactl
