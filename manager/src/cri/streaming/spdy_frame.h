// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 as amended by SPDY/3.1): the 8-byte frame
// header, the control frames Kubernetes' streaming protocols use, and header blocks. Written from
// the draft; what the SPDY-based remotecommand and portforward protocols run over.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/common/error.h"

namespace berth::cri::streaming::spdy {

inline constexpr uint16_t kVersion = 3;
inline constexpr size_t kFrameHeaderSize = 8;
// Larger frames are refused: data frames we accept never exceed the stream window we grant, and
// header blocks of the streaming protocols are a few hundred bytes.
inline constexpr uint32_t kMaxFrameLength = 1 << 20;
inline constexpr uint32_t kDefaultWindow = 64 * 1024;

enum class ControlType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

inline constexpr uint8_t kFlagFin = 0x01;
inline constexpr uint8_t kFlagUnidirectional = 0x02;

// RST_STREAM status codes.
enum class RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

inline constexpr uint32_t kSettingInitialWindowSize = 7;

// One frame, split by kind; payload fields are filled per type.
struct Frame {
  bool control = false;
  ControlType type{};    // control frames
  uint8_t flags = 0;
  uint32_t stream_id = 0;  // data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint32_t associated_stream_id = 0;  // SYN_STREAM
  uint8_t priority = 0;               // SYN_STREAM
  uint32_t status = 0;                // RST_STREAM, GOAWAY
  uint32_t last_good_stream_id = 0;   // GOAWAY
  uint32_t ping_id = 0;               // PING
  uint32_t delta_window = 0;          // WINDOW_UPDATE
  std::vector<std::pair<uint32_t, uint32_t>> settings;  // id -> value
  std::string payload;  // data bytes, or the still-compressed header block
};

// Decodes the first frame of buf. nullopt when buf does not yet hold a whole frame; an error for
// a frame that breaks the spec (unknown version, short control payload, oversized length).
// consumed is set to the frame's size on success. Unknown control types are returned with their
// type for the caller to ignore, as the draft requires.
Result<std::optional<Frame>> parse_frame(std::string_view buf, size_t& consumed);

std::string data_frame(uint32_t stream_id, uint8_t flags, std::string_view data);
std::string syn_stream_frame(uint32_t stream_id, uint8_t flags, std::string_view header_block);
std::string syn_reply_frame(uint32_t stream_id, uint8_t flags, std::string_view header_block);
std::string headers_frame(uint32_t stream_id, uint8_t flags, std::string_view header_block);
std::string rst_stream_frame(uint32_t stream_id, RstStatus status);
std::string settings_frame(const std::vector<std::pair<uint32_t, uint32_t>>& settings);
std::string ping_frame(uint32_t id);
std::string goaway_frame(uint32_t last_good_stream_id, uint32_t status);
std::string window_update_frame(uint32_t stream_id, uint32_t delta);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The uncompressed name/value block: a 32-bit count, then length-prefixed names and values.
std::string encode_header_block(const HeaderList& headers);
// Refuses truncated blocks, empty or upper-case names and counts beyond what the block can hold.
Result<HeaderList> decode_header_block(std::string_view block);

// The SPDY/3 zlib dictionary (draft section 2.6.10.1), 1423 bytes.
std::string_view header_dictionary();

// Header blocks of one direction of a session share one zlib stream (with the dictionary), so a
// compressor and a decompressor live as long as their session.
class HeaderCompressor {
 public:
  HeaderCompressor();
  ~HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;
  Result<std::string> compress(const HeaderList& headers);

 private:
  struct State;
  State* state_;
};

class HeaderDecompressor {
 public:
  explicit HeaderDecompressor(size_t max_output = 64 * 1024);
  ~HeaderDecompressor();
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;
  // Refuses output beyond max_output (a zlib bomb) and any inflate error.
  Result<HeaderList> decompress(std::string_view compressed);

 private:
  struct State;
  State* state_;
  size_t max_output_;
};

}  // namespace berth::cri::streaming::spdy
