#include "cri/streaming/spdy_frame.h"

#include <cctype>

namespace berth::cri::streaming::spdy {

namespace {

uint32_t get32(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) | (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) | uint32_t{static_cast<uint8_t>(b[at + 3])};
}

void put32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

void put_length(std::string& out, uint8_t flags, size_t length) {
  put32(out, (uint32_t{flags} << 24) | static_cast<uint32_t>(length & 0xffffff));
}

std::string control_frame(ControlType type, uint8_t flags, std::string_view body) {
  std::string out;
  out.reserve(kFrameHeaderSize + body.size());
  put32(out, 0x80000000u | (uint32_t{kVersion} << 16) | static_cast<uint16_t>(type));
  put_length(out, flags, body.size());
  out.append(body);
  return out;
}

Error malformed(std::string_view what) { return make_error(ErrorCode::kInvalidArgument, "SPDY: {}", what); }

// Minimum payload sizes of the control frames we interpret.
size_t min_payload(ControlType type) {
  switch (type) {
    case ControlType::kSynStream: return 10;
    case ControlType::kSynReply:
    case ControlType::kHeaders: return 4;
    case ControlType::kRstStream:
    case ControlType::kGoAway:
    case ControlType::kWindowUpdate: return 8;
    case ControlType::kSettings:
    case ControlType::kPing: return 4;
  }
  return 0;
}

}  // namespace

Result<std::optional<Frame>> parse_frame(std::string_view buf, size_t& consumed) {
  if (buf.size() < kFrameHeaderSize) return std::optional<Frame>();
  uint32_t word0 = get32(buf, 0);
  uint32_t word1 = get32(buf, 4);
  uint32_t length = word1 & 0xffffff;
  if (length > kMaxFrameLength) return malformed(fmt::format("frame of {} bytes is too large", length));
  if (buf.size() < kFrameHeaderSize + length) return std::optional<Frame>();
  std::string_view body = buf.substr(kFrameHeaderSize, length);
  Frame frame;
  frame.flags = static_cast<uint8_t>(word1 >> 24);
  consumed = kFrameHeaderSize + length;
  if ((word0 & 0x80000000u) == 0) {
    frame.stream_id = word0 & 0x7fffffff;
    if (frame.stream_id == 0) return malformed("data frame on stream 0");
    frame.payload = std::string(body);
    return std::optional<Frame>(std::move(frame));
  }
  frame.control = true;
  uint16_t version = static_cast<uint16_t>((word0 >> 16) & 0x7fff);
  if (version != kVersion) return malformed(fmt::format("unsupported version {}", version));
  frame.type = static_cast<ControlType>(word0 & 0xffff);
  if (body.size() < min_payload(frame.type)) return malformed("control frame payload too short");
  switch (frame.type) {
    case ControlType::kSynStream:
      frame.stream_id = get32(body, 0) & 0x7fffffff;
      frame.associated_stream_id = get32(body, 4) & 0x7fffffff;
      frame.priority = static_cast<uint8_t>(static_cast<uint8_t>(body[8]) >> 5);
      frame.payload = std::string(body.substr(10));
      if (frame.stream_id == 0) return malformed("SYN_STREAM for stream 0");
      break;
    case ControlType::kSynReply:
    case ControlType::kHeaders:
      frame.stream_id = get32(body, 0) & 0x7fffffff;
      frame.payload = std::string(body.substr(4));
      break;
    case ControlType::kRstStream:
      frame.stream_id = get32(body, 0) & 0x7fffffff;
      frame.status = get32(body, 4);
      break;
    case ControlType::kSettings: {
      uint32_t count = get32(body, 0);
      if (count > (body.size() - 4) / 8) return malformed("SETTINGS count beyond its payload");
      for (uint32_t i = 0; i < count; i++) {
        size_t at = 4 + size_t{i} * 8;
        frame.settings.emplace_back(get32(body, at) & 0xffffff, get32(body, at + 4));
      }
      break;
    }
    case ControlType::kPing: frame.ping_id = get32(body, 0); break;
    case ControlType::kGoAway:
      frame.last_good_stream_id = get32(body, 0) & 0x7fffffff;
      frame.status = get32(body, 4);
      break;
    case ControlType::kWindowUpdate:
      frame.stream_id = get32(body, 0) & 0x7fffffff;
      frame.delta_window = get32(body, 4) & 0x7fffffff;
      if (frame.delta_window == 0) return malformed("WINDOW_UPDATE of 0");
      break;
    default: break;  // unknown control frames are ignored by the receiver
  }
  return std::optional<Frame>(std::move(frame));
}

std::string data_frame(uint32_t stream_id, uint8_t flags, std::string_view data) {
  std::string out;
  out.reserve(kFrameHeaderSize + data.size());
  put32(out, stream_id & 0x7fffffff);
  put_length(out, flags, data.size());
  out.append(data);
  return out;
}

std::string syn_stream_frame(uint32_t stream_id, uint8_t flags, std::string_view header_block) {
  std::string body;
  put32(body, stream_id & 0x7fffffff);
  put32(body, 0);
  body += '\0';  // priority 0
  body += '\0';  // slot
  body.append(header_block);
  return control_frame(ControlType::kSynStream, flags, body);
}

std::string syn_reply_frame(uint32_t stream_id, uint8_t flags, std::string_view header_block) {
  std::string body;
  put32(body, stream_id & 0x7fffffff);
  body.append(header_block);
  return control_frame(ControlType::kSynReply, flags, body);
}

std::string headers_frame(uint32_t stream_id, uint8_t flags, std::string_view header_block) {
  std::string body;
  put32(body, stream_id & 0x7fffffff);
  body.append(header_block);
  return control_frame(ControlType::kHeaders, flags, body);
}

std::string rst_stream_frame(uint32_t stream_id, RstStatus status) {
  std::string body;
  put32(body, stream_id & 0x7fffffff);
  put32(body, static_cast<uint32_t>(status));
  return control_frame(ControlType::kRstStream, 0, body);
}

std::string settings_frame(const std::vector<std::pair<uint32_t, uint32_t>>& settings) {
  std::string body;
  put32(body, static_cast<uint32_t>(settings.size()));
  for (auto [id, value] : settings) {
    put32(body, id & 0xffffff);  // flags 0
    put32(body, value);
  }
  return control_frame(ControlType::kSettings, 0, body);
}

std::string ping_frame(uint32_t id) {
  std::string body;
  put32(body, id);
  return control_frame(ControlType::kPing, 0, body);
}

std::string goaway_frame(uint32_t last_good_stream_id, uint32_t status) {
  std::string body;
  put32(body, last_good_stream_id & 0x7fffffff);
  put32(body, status);
  return control_frame(ControlType::kGoAway, 0, body);
}

std::string window_update_frame(uint32_t stream_id, uint32_t delta) {
  std::string body;
  put32(body, stream_id & 0x7fffffff);
  put32(body, delta & 0x7fffffff);
  return control_frame(ControlType::kWindowUpdate, 0, body);
}

std::string encode_header_block(const HeaderList& headers) {
  std::string out;
  put32(out, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    put32(out, static_cast<uint32_t>(name.size()));
    out += name;
    put32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  return out;
}

Result<HeaderList> decode_header_block(std::string_view block) {
  if (block.size() < 4) return malformed("header block too short");
  uint32_t count = get32(block, 0);
  block.remove_prefix(4);
  // Each pair takes at least 8 bytes (two lengths): a larger count is a lie.
  if (count > block.size() / 8) return malformed("header count beyond the block");
  HeaderList headers;
  auto take = [&](std::string& out) -> Status {
    if (block.size() < 4) return malformed("truncated header block");
    uint32_t len = get32(block, 0);
    block.remove_prefix(4);
    if (len > block.size()) return malformed("header length beyond the block");
    out = std::string(block.substr(0, len));
    block.remove_prefix(len);
    return {};
  };
  for (uint32_t i = 0; i < count; i++) {
    std::string name, value;
    BERTH_TRY(take(name));
    BERTH_TRY(take(value));
    if (name.empty()) return malformed("empty header name");
    for (char c : name)
      if (std::isupper(static_cast<unsigned char>(c))) return malformed("upper-case header name");
    headers.emplace_back(std::move(name), std::move(value));
  }
  return headers;
}

}  // namespace berth::cri::streaming::spdy
