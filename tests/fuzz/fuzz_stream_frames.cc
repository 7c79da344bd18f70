// The CRI streaming server's parsers as a hostile client drives them: SPDY/3.1 frames (with the
// shared zlib header stream), WebSocket frames and message reassembly, the resize JSON stream and
// the HTTP request head. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cri/streaming/http_request.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_frame.h"
#include "cri/streaming/websocket_frame.h"

using namespace berth::cri::streaming;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {  // a SPDY byte stream: frames one after another, header blocks inflated in order
      spdy::HeaderDecompressor inflater;
      while (!input.empty()) {
        size_t consumed = 0;
        auto frame = spdy::parse_frame(input, consumed);
        if (!frame.ok() || !frame->has_value()) break;
        const auto& f = **frame;
        if (f.control && (f.type == spdy::ControlType::kSynStream || f.type == spdy::ControlType::kHeaders))
          (void)inflater.decompress(f.payload);
        input.remove_prefix(consumed);
      }
      break;
    }
    case 1: {  // WebSocket frames, reassembled into messages; base64 payloads decoded
      websocket::MessageAssembler assembler;
      while (!input.empty()) {
        size_t consumed = 0;
        auto frame = websocket::parse_frame(input, consumed, data[0] & 4);
        if (!frame.ok() || !frame->has_value()) break;
        input.remove_prefix(consumed);
        auto message = assembler.add(std::move(**frame));
        if (!message.ok()) break;
        if (message->has_value() && (*message)->payload.size() > 1)
          (void)websocket::base64_decode(std::string_view((*message)->payload).substr(1));
      }
      break;
    }
    case 2: {
      ResizeDecoder decoder;
      (void)decoder.feed(input);
      break;
    }
    case 3: {
      auto request = parse_http_request(input);
      if (request.ok()) {
        (void)request->header_values("x-stream-protocol-version");
        (void)request->query_values("command");
      }
      break;
    }
  }
  return 0;
}
