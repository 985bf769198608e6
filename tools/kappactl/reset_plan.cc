#include "tools/kappactl/reset_plan.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace kappa::kappactl {
namespace {

Status invalid(std::string message) {
  return client_error(client_errc::invalid_argument, std::move(message));
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A non-negative decimal that fits in int64, or nullopt.
std::optional<int64_t> parse_non_negative(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string tp_name(const topic_partition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

int64_t saturating_add(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b)
    return std::numeric_limits<int64_t>::max();
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b)
    return std::numeric_limits<int64_t>::min();
  return a + b;
}

}  // namespace

const char* reset_mode_flag(reset_mode mode) {
  switch (mode) {
    case reset_mode::to_earliest:
      return "--to-earliest";
    case reset_mode::to_latest:
      return "--to-latest";
    case reset_mode::to_offset:
      return "--to-offset";
    case reset_mode::to_datetime:
      return "--to-datetime";
    case reset_mode::by_duration:
      return "--by-duration";
    case reset_mode::shift_by:
      return "--shift-by";
    case reset_mode::from_file:
      return "--from-file";
  }
  return "?";
}

Result<reset_spec> make_reset_spec(const reset_flags& f, int64_t now_ms) {
  std::vector<reset_mode> given;
  if (f.to_earliest) given.push_back(reset_mode::to_earliest);
  if (f.to_latest) given.push_back(reset_mode::to_latest);
  if (f.to_offset) given.push_back(reset_mode::to_offset);
  if (f.to_datetime_ms) given.push_back(reset_mode::to_datetime);
  if (f.by_duration) given.push_back(reset_mode::by_duration);
  if (f.shift_by) given.push_back(reset_mode::shift_by);
  if (f.from_file_csv) given.push_back(reset_mode::from_file);
  if (given.empty()) {
    return invalid(
        "give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, "
        "--by-duration, "
        "--shift-by, --from-file (none was given)");
  }
  if (given.size() > 1) {
    std::string names;
    for (reset_mode m : given)
      names += std::string(names.empty() ? "" : " and ") + reset_mode_flag(m);
    return invalid("give exactly one reset mode, not " + names);
  }
  reset_spec spec;
  spec.mode = given.front();
  switch (spec.mode) {
    case reset_mode::to_earliest:
    case reset_mode::to_latest:
      break;
    case reset_mode::to_offset:
      if (*f.to_offset < 0)
        return invalid("--to-offset must be >= 0, got " + std::to_string(*f.to_offset));
      spec.offset = *f.to_offset;
      break;
    case reset_mode::to_datetime:
      if (*f.to_datetime_ms > now_ms) {
        return invalid("--to-datetime is " +
                       std::to_string((*f.to_datetime_ms - now_ms + 999) / 1000) +
                       " s in the future: there are no offsets to reset to yet");
      }
      spec.timestamp_ms = *f.to_datetime_ms;
      break;
    case reset_mode::by_duration: {
      KAPPA_ASSIGN_OR_RETURN(int64_t d, parse_iso8601_duration_ms(*f.by_duration));
      spec.timestamp_ms = now_ms - d;
      break;
    }
    case reset_mode::shift_by:
      spec.shift = *f.shift_by;
      break;
    case reset_mode::from_file: {
      KAPPA_ASSIGN_OR_RETURN(spec.file_offsets, parse_reset_csv(*f.from_file_csv));
      break;
    }
  }
  return spec;
}

Result<int64_t> parse_iso8601_duration_ms(const std::string& text) {
  const Status bad =
      invalid("--by-duration '" + text +
              "' is not an ISO-8601 duration such as PT1H, PT30M, P1D, P1DT12H or PT1.5S "
              "(weeks, days, hours, minutes, seconds)");
  std::string s;
  for (char c : text) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s.size() < 3 || s[0] != 'P') return bad;
  // Units in the order ISO-8601 requires them; each at most once.
  static constexpr struct {
    char unit;
    bool time_part;
    int64_t ms;
  } kUnits[] = {{'W', false, 7 * 86400000LL},
                {'D', false, 86400000LL},
                {'H', true, 3600000LL},
                {'M', true, 60000LL},
                {'S', true, 1000LL}};
  size_t next_unit = 0, pos = 1;
  bool in_time = false, any = false;
  // Bounded so the sum cannot overflow: about 290 years.
  constexpr int64_t kMaxMs = int64_t{9} * 1000 * 1000 * 1000 * 1000 * 1000;
  int64_t total = 0;
  while (pos < s.size()) {
    if (s[pos] == 'T') {
      if (in_time || pos + 1 == s.size()) return bad;
      in_time = true;
      ++pos;
      continue;
    }
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    std::string whole = s.substr(start, pos - start);
    std::string fraction;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      size_t f = ++pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
      fraction = s.substr(f, pos - f);
      if (fraction.empty()) return bad;
    }
    if (whole.empty() || whole.size() > 9 || pos >= s.size()) return bad;
    const char unit = s[pos++];
    size_t u = next_unit;
    while (u < std::size(kUnits) && !(kUnits[u].unit == unit && kUnits[u].time_part == in_time))
      ++u;
    if (u == std::size(kUnits))
      return bad;  // unknown, repeated, out of order or on the wrong side of T
    // Only seconds may have a fraction (milliseconds kept).
    if (!fraction.empty() && unit != 'S') return bad;
    next_unit = u + 1;
    int64_t ms = *parse_non_negative(whole) * kUnits[u].ms;
    int64_t scale = 100;
    for (size_t i = 0; i < fraction.size() && i < 3; ++i, scale /= 10)
      ms += (fraction[i] - '0') * scale;
    total += ms;
    if (total > kMaxMs) return invalid("--by-duration '" + text + "' is too long");
    any = true;
  }
  if (!any) return bad;
  if (total <= 0) return invalid("--by-duration '" + text + "' must be longer than zero");
  return total;
}

Result<std::map<topic_partition, int64_t>> parse_reset_csv(const std::string& text) {
  std::map<topic_partition, int64_t> out;
  size_t line_start = 0;
  for (int line_no = 1; line_start < text.size(); ++line_no) {
    size_t end = text.find('\n', line_start);
    if (end == std::string::npos) end = text.size();
    const std::string line = trim(text.substr(line_start, end - line_start));
    line_start = end + 1;
    if (line.empty()) continue;
    const std::string where = "--from-file line " + std::to_string(line_no) + " ('" + line + "')";
    std::vector<std::string> fields;
    size_t from = 0;
    for (;;) {
      size_t comma = line.find(',', from);
      fields.push_back(
          trim(line.substr(from, comma == std::string::npos ? std::string::npos : comma - from)));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    if (fields.size() != 3) {
      return invalid(where + ": expected topic,partition,offset (3 fields), got " +
                     std::to_string(fields.size()) + " fields");
    }
    if (fields[0].empty()) return invalid(where + ": empty topic");
    auto partition = parse_non_negative(fields[1]);
    if (!partition || *partition > std::numeric_limits<int32_t>::max()) {
      return invalid(where + ": partition '" + fields[1] + "' is not a number >= 0");
    }
    auto offset = parse_non_negative(fields[2]);
    if (!offset) return invalid(where + ": offset '" + fields[2] + "' is not a number >= 0");
    topic_partition tp{fields[0], static_cast<int32_t>(*partition)};
    if (!out.emplace(tp, *offset).second)
      return invalid(where + ": " + tp_name(tp) + " appears twice");
  }
  if (out.empty()) return invalid("--from-file has no topic,partition,offset line");
  return out;
}

Result<topic_selection> parse_topic_selection(const std::string& text) {
  topic_selection sel;
  const size_t colon = text.find(':');
  sel.topic = text.substr(0, colon);
  if (sel.topic.empty())
    return invalid("--topic '" + text + "': empty topic name (want T or T:P,P,...)");
  if (colon == std::string::npos) return sel;
  const std::string list = text.substr(colon + 1);
  size_t from = 0;
  for (;;) {
    size_t comma = list.find(',', from);
    const std::string item =
        trim(list.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    auto p = parse_non_negative(item);
    if (!p || *p > std::numeric_limits<int32_t>::max()) {
      return invalid("--topic '" + text + "': partition '" + item + "' is not a number >= 0");
    }
    sel.partitions.push_back(static_cast<int32_t>(*p));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return sel;
}

Result<std::vector<topic_partition>> expand_selections(
    const std::vector<topic_selection>& selections,
    const std::map<std::string, std::vector<int32_t>>& existing) {
  std::set<topic_partition> out;
  for (const topic_selection& sel : selections) {
    auto it = existing.find(sel.topic);
    if (it == existing.end()) {
      return client_error(client_errc::unknown_topic_or_partition,
                          "topic '" + sel.topic + "' does not exist");
    }
    if (sel.partitions.empty()) {
      for (int32_t p : it->second) out.insert({sel.topic, p});
      continue;
    }
    for (int32_t p : sel.partitions) {
      if (std::find(it->second.begin(), it->second.end(), p) == it->second.end()) {
        return client_error(client_errc::unknown_topic_or_partition,
                            "topic '" + sel.topic + "' has no partition " + std::to_string(p) +
                                " (it has " + std::to_string(it->second.size()) + ")");
      }
      out.insert({sel.topic, p});
    }
  }
  return std::vector<topic_partition>(out.begin(), out.end());
}

Result<std::vector<planned_reset>> plan_resets(const reset_spec& spec,
                                               const std::vector<partition_state>& partitions) {
  std::map<topic_partition, const partition_state*> by_tp;
  for (const partition_state& p : partitions) by_tp[p.tp] = &p;
  std::vector<const partition_state*> targets;
  if (spec.mode == reset_mode::from_file) {
    for (const auto& [tp, offset] : spec.file_offsets) {
      auto it = by_tp.find(tp);
      if (it == by_tp.end()) {
        return client_error(client_errc::unknown_topic_or_partition,
                            "--from-file names " + tp_name(tp) + ", which does not exist");
      }
      targets.push_back(it->second);
    }
  } else {
    for (const auto& [tp, p] : by_tp) targets.push_back(p);
  }

  std::vector<planned_reset> plan;
  for (const partition_state* p : targets) {
    planned_reset r;
    r.tp = p->tp;
    r.current = p->committed;
    switch (spec.mode) {
      case reset_mode::to_earliest:
        r.requested = p->log_start;
        break;
      case reset_mode::to_latest:
        r.requested = p->high_watermark;
        break;
      case reset_mode::to_offset:
        r.requested = spec.offset;
        break;
      case reset_mode::to_datetime:
      case reset_mode::by_duration:
        // No record that recent: the end, as Kafka's tool does.
        r.requested = p->offset_at_time >= 0 ? p->offset_at_time : p->high_watermark;
        break;
      case reset_mode::shift_by:
        if (p->committed < 0) {
          return invalid(
              "--shift-by: " + tp_name(p->tp) +
              " has no committed offset to shift from (reset it with another mode first)");
        }
        r.requested = saturating_add(p->committed, spec.shift);
        break;
      case reset_mode::from_file:
        r.requested = spec.file_offsets.at(p->tp);
        break;
    }
    r.target = r.requested;
    if (r.target < p->log_start) {
      r.target = p->log_start;
      r.note = "requested offset " + std::to_string(r.requested) +
               " is below the log start offset " + std::to_string(p->log_start) + ": using " +
               std::to_string(r.target);
    } else if (r.target > p->high_watermark) {
      r.target = p->high_watermark;
      r.note = "requested offset " + std::to_string(r.requested) + " is above the high watermark " +
               std::to_string(p->high_watermark) + ": using " + std::to_string(r.target);
    }
    plan.push_back(std::move(r));
  }
  std::sort(plan.begin(), plan.end(),
            [](const planned_reset& a, const planned_reset& b) { return a.tp < b.tp; });
  return plan;
}

}  // namespace kappa::kappactl
