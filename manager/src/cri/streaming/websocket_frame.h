// WebSocket (RFC 6455) framing, server side: the handshake's accept value, frames as clients send
// them (masked, possibly fragmented) and as servers send them (unmasked). No extensions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth::cri::streaming::websocket {

enum class Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// Messages (after reassembly) and frames above this size are refused: stdin chunks and resize
// messages are small, and a peer must not make berthd buffer without bound.
inline constexpr size_t kMaxMessageSize = 1 << 20;

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::kBinary;
  bool masked = false;
  std::string payload;  // unmasked
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view client_key);

// Decodes the first frame of buf; nullopt until a whole frame is there. Errors for reserved bits,
// unknown opcodes, control frames that are fragmented or longer than 125 bytes, lengths with the
// top bit set or beyond kMaxMessageSize, and (require_mask) unmasked frames.
Result<std::optional<Frame>> parse_frame(std::string_view buf, size_t& consumed, bool require_mask = true);

// One frame; mask_key is used when masked (client side, as the tests' client sends them).
std::string encode_frame(Opcode opcode, std::string_view payload, bool fin = true, bool masked = false,
                         uint32_t mask_key = 0);
// A close frame's payload: status code, then reason.
std::string close_payload(uint16_t code, std::string_view reason);

// Joins fragmented data frames into messages; control frames pass straight through.
class MessageAssembler {
 public:
  // A complete message (data or control), nullopt while a fragmented one is incomplete.
  Result<std::optional<Frame>> add(Frame frame);

 private:
  std::optional<Frame> partial_;
};

// Base64 as the base64 channel protocols use it (standard alphabet, padded).
std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);

}  // namespace berth::cri::streaming::websocket
