// A tiny big-endian writer/reader for the broker's own metadata payloads
// (topic store, producer-state snapshots, producer id block). The reader
// never reads past its buffer: every get_* fails (ok() turns false) instead.
#pragma once

#include <cstdint>
#include <string>

#include "proto/format/bytes.h"

namespace kappa::broker {

class wire_writer {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u16(uint16_t v) { for (int s = 8; s >= 0; s -= 8) buf_.push_back(uint8_t(v >> s)); }
  void u32(uint32_t v) { for (int s = 24; s >= 0; s -= 8) buf_.push_back(uint8_t(v >> s)); }
  void u64(uint64_t v) { for (int s = 56; s >= 0; s -= 8) buf_.push_back(uint8_t(v >> s)); }
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  byte_buffer take() { return std::move(buf_); }

 private:
  byte_buffer buf_;
};

class wire_reader {
 public:
  explicit wire_reader(byte_view b) : b_(b) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == b_.size(); }
  uint64_t uint(int bytes) {
    if (!ok_ || b_.size() - pos_ < size_t(bytes)) { ok_ = false; return 0; }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | b_[pos_++];
    return v;
  }
  uint8_t u8() { return uint8_t(uint(1)); }
  uint16_t u16() { return uint16_t(uint(2)); }
  uint32_t u32() { return uint32_t(uint(4)); }
  uint64_t u64() { return uint(8); }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || b_.size() - pos_ < n) { ok_ = false; return {}; }
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  byte_view b_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace kappa::broker
