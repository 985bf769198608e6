#include "tools/kappactl/record_format.h"

namespace kappa::kappactl {
namespace {

constexpr std::string_view kFields = "tpoTkvhKS";

}  // namespace

record_format::record_format(const std::string& spec) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) pieces_.emplace_back(std::move(literal));
    literal.clear();
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (i + 1 < spec.size() && c == '%') {
      char f = spec[++i];
      if (f == '%') {
        literal.push_back('%');
      } else if (kFields.find(f) != std::string_view::npos) {
        flush();
        pieces_.emplace_back(f);
      } else {
        literal.push_back('%');
        literal.push_back(f);
      }
    } else if (i + 1 < spec.size() && c == '\\') {
      char e = spec[++i];
      switch (e) {
        case 'n':
          literal.push_back('\n');
          break;
        case 't':
          literal.push_back('\t');
          break;
        case 'r':
          literal.push_back('\r');
          break;
        case '\\':
          literal.push_back('\\');
          break;
        default:
          literal.push_back('\\');
          literal.push_back(e);
      }
    } else {
      literal.push_back(c);
    }
  }
  flush();
}

void record_format::append(const consumed_record& r, std::string& out) const {
  for (const auto& piece : pieces_) {
    if (const std::string* s = std::get_if<std::string>(&piece)) {
      out += *s;
      continue;
    }
    switch (std::get<char>(piece)) {
      case 't':
        out += r.topic;
        break;
      case 'p':
        out += std::to_string(r.partition);
        break;
      case 'o':
        out += std::to_string(r.offset);
        break;
      case 'T':
        out += std::to_string(r.timestamp_ms);
        break;
      case 'k':
        if (r.key) out += *r.key;
        break;
      case 'v':
        if (r.value) out += *r.value;
        break;
      case 'K':
        out += std::to_string(r.key ? static_cast<int64_t>(r.key->size()) : -1);
        break;
      case 'S':
        out += std::to_string(r.value ? static_cast<int64_t>(r.value->size()) : -1);
        break;
      case 'h':
        for (size_t i = 0; i < r.headers.size(); ++i) {
          if (i) out.push_back(',');
          out += r.headers[i].key;
          out.push_back('=');
          if (r.headers[i].value) out += *r.headers[i].value;
        }
        break;
    }
  }
}

}  // namespace kappa::kappactl
