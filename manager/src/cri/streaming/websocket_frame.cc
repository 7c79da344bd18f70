#include "cri/streaming/websocket_frame.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace berth::cri::streaming::websocket {

namespace {

constexpr std::string_view kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

Error protocol_error(std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument, "WebSocket: {}", what);
}

bool is_control(Opcode op) { return static_cast<uint8_t>(op) >= 8; }

bool known_opcode(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return protocol_error("base64 text length is not a multiple of 4");
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return protocol_error("invalid base64");
  // EVP_DecodeBlock counts padding as zero bytes.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad++;
  if (text.size() > 1 && text[text.size() - 2] == '=') pad++;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string accept_key(std::string_view client_key) {
  std::string input = std::string(client_key) + std::string(kHandshakeGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

Result<std::optional<Frame>> parse_frame(std::string_view buf, size_t& consumed, bool require_mask) {
  if (buf.size() < 2) return std::optional<Frame>();
  auto byte = [&](size_t i) { return static_cast<uint8_t>(buf[i]); };
  Frame frame;
  frame.fin = (byte(0) & 0x80) != 0;
  if (byte(0) & 0x70) return protocol_error("reserved bits set (no extension was negotiated)");
  uint8_t op = byte(0) & 0x0f;
  if (!known_opcode(op)) return protocol_error(fmt::format("unknown opcode {}", op));
  frame.opcode = static_cast<Opcode>(op);
  frame.masked = (byte(1) & 0x80) != 0;
  if (require_mask && !frame.masked) return protocol_error("client frame not masked");
  uint64_t length = byte(1) & 0x7f;
  size_t at = 2;
  if (length == 126) {
    if (buf.size() < 4) return std::optional<Frame>();
    length = (uint64_t{byte(2)} << 8) | byte(3);
    at = 4;
  } else if (length == 127) {
    if (buf.size() < 10) return std::optional<Frame>();
    length = 0;
    for (size_t i = 2; i < 10; i++) length = (length << 8) | byte(i);
    if (length >> 63) return protocol_error("length with the most significant bit set");
    at = 10;
  }
  if (is_control(frame.opcode) && (!frame.fin || length > 125))
    return protocol_error("control frame fragmented or longer than 125 bytes");
  if (length > kMaxMessageSize) return protocol_error(fmt::format("frame of {} bytes is too large", length));
  uint8_t mask[4] = {0, 0, 0, 0};
  if (frame.masked) {
    if (buf.size() < at + 4) return std::optional<Frame>();
    for (size_t i = 0; i < 4; i++) mask[i] = byte(at + i);
    at += 4;
  }
  if (buf.size() < at + length) return std::optional<Frame>();
  frame.payload = std::string(buf.substr(at, length));
  if (frame.masked)
    for (size_t i = 0; i < frame.payload.size(); i++) frame.payload[i] = static_cast<char>(frame.payload[i] ^ mask[i % 4]);
  consumed = at + length;
  return std::optional<Frame>(std::move(frame));
}

std::string encode_frame(Opcode opcode, std::string_view payload, bool fin, bool masked, uint32_t mask_key) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode));
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xffff) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size());
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>(uint64_t{payload.size()} >> shift);
  }
  if (!masked) return out.append(payload);
  char mask[4] = {static_cast<char>(mask_key >> 24), static_cast<char>(mask_key >> 16),
                  static_cast<char>(mask_key >> 8), static_cast<char>(mask_key)};
  out.append(mask, 4);
  for (size_t i = 0; i < payload.size(); i++) out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code);
  out.append(reason.substr(0, 123));
  return out;
}

Result<std::optional<Frame>> MessageAssembler::add(Frame frame) {
  if (is_control(frame.opcode)) return std::optional<Frame>(std::move(frame));
  if (frame.opcode == Opcode::kContinuation) {
    if (!partial_) return protocol_error("continuation frame without a message to continue");
    if (partial_->payload.size() + frame.payload.size() > kMaxMessageSize)
      return protocol_error("fragmented message too large");
    partial_->payload += frame.payload;
    if (!frame.fin) return std::optional<Frame>();
    Frame done = std::move(*partial_);
    partial_.reset();
    done.fin = true;
    return std::optional<Frame>(std::move(done));
  }
  if (partial_) return protocol_error("new message inside a fragmented one");
  if (frame.fin) return std::optional<Frame>(std::move(frame));
  partial_ = std::move(frame);
  return std::optional<Frame>();
}

}  // namespace berth::cri::streaming::websocket
