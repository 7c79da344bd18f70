// SPDY/3.1 and WebSocket framing, header compression, HTTP heads, tokens and the remotecommand
// messages, without sockets.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <thread>

#include "cri/streaming/http_request.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_frame.h"
#include "cri/streaming/token_cache.h"
#include "cri/streaming/websocket_frame.h"

namespace berth::cri::streaming {
namespace {

std::optional<spdy::Frame> parse_spdy(std::string_view bytes) {
  size_t consumed = 0;
  auto r = spdy::parse_frame(bytes, consumed);
  EXPECT_TRUE(r.ok()) << r.error().what();
  if (r.ok() && r->has_value()) {
    EXPECT_EQ(consumed, bytes.size());
  }
  return r.ok() ? *r : std::nullopt;
}

TEST(SpdyFrameTest, RoundTripsEveryFrameType) {
  auto data = parse_spdy(spdy::data_frame(5, spdy::kFlagFin, "abc"));
  ASSERT_TRUE(data);
  EXPECT_FALSE(data->control);
  EXPECT_EQ(data->stream_id, 5u);
  EXPECT_EQ(data->flags, spdy::kFlagFin);
  EXPECT_EQ(data->payload, "abc");

  auto syn = parse_spdy(spdy::syn_stream_frame(7, spdy::kFlagUnidirectional, "hdrs"));
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->type, spdy::ControlType::kSynStream);
  EXPECT_EQ(syn->stream_id, 7u);
  EXPECT_EQ(syn->payload, "hdrs");

  auto rst = parse_spdy(spdy::rst_stream_frame(9, spdy::RstStatus::kCancel));
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->status, 5u);

  auto settings = parse_spdy(spdy::settings_frame({{7, 1000}, {4, 100}}));
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->settings, (std::vector<std::pair<uint32_t, uint32_t>>{{7, 1000}, {4, 100}}));

  EXPECT_EQ(parse_spdy(spdy::ping_frame(0xdeadbeef))->ping_id, 0xdeadbeefu);
  auto goaway = parse_spdy(spdy::goaway_frame(11, 1));
  EXPECT_EQ(goaway->last_good_stream_id, 11u);
  EXPECT_EQ(goaway->status, 1u);
  auto wu = parse_spdy(spdy::window_update_frame(3, 65536));
  EXPECT_EQ(wu->stream_id, 3u);
  EXPECT_EQ(wu->delta_window, 65536u);
  auto reply = parse_spdy(spdy::syn_reply_frame(3, 0, "x"));
  EXPECT_EQ(reply->type, spdy::ControlType::kSynReply);
  EXPECT_EQ(parse_spdy(spdy::headers_frame(3, 0, "y"))->payload, "y");
}

TEST(SpdyFrameTest, WaitsForWholeFrames) {
  std::string frame = spdy::data_frame(1, 0, "hello");
  for (size_t n = 0; n < frame.size(); n++) {
    size_t consumed = 0;
    auto r = spdy::parse_frame(std::string_view(frame).substr(0, n), consumed);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << n;
  }
}

TEST(SpdyFrameTest, RefusesMalformedFrames) {
  size_t consumed = 0;
  auto refused = [&](std::string bytes) { return !spdy::parse_frame(bytes, consumed).ok(); };
  EXPECT_TRUE(refused(std::string("\x80\x02\x00\x01\x00\x00\x00\x00", 8)));  // version 2
  EXPECT_TRUE(refused(std::string("\x80\x03\x00\x03\x00\x00\x00\x04\0\0\0\1", 12)));  // short RST_STREAM
  EXPECT_TRUE(refused(std::string("\x00\x00\x00\x01\x00\xff\xff\xff", 8)));  // 16 MiB data frame
  EXPECT_TRUE(refused(std::string("\x00\x00\x00\x00\x00\x00\x00\x00", 8)));  // data on stream 0
  // SETTINGS claiming a million entries in 4 bytes.
  EXPECT_TRUE(refused(std::string("\x80\x03\x00\x04\x00\x00\x00\x04\x00\x0f\x42\x40", 12)));
  EXPECT_TRUE(refused(std::string("\x80\x03\x00\x09\x00\x00\x00\x08\0\0\0\1\0\0\0\0", 16)));  // window += 0
  // An unknown control type is not an error: the receiver ignores it.
  auto unknown = spdy::parse_frame(std::string("\x80\x03\x00\x63\x00\x00\x00\x00", 8), consumed);
  EXPECT_TRUE(unknown.ok());
}

TEST(SpdyHeadersTest, BlockRoundTripAndRefusals) {
  spdy::HeaderList headers{{"streamtype", "stdout"}, {"port", "8080"}};
  auto decoded = spdy::decode_header_block(spdy::encode_header_block(headers));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, headers);
  std::string block = spdy::encode_header_block(headers);
  EXPECT_FALSE(spdy::decode_header_block(block.substr(0, block.size() - 1)).ok());  // truncated
  EXPECT_FALSE(spdy::decode_header_block(std::string("\xff\xff\xff\xff", 4)).ok());  // count lie
  EXPECT_FALSE(spdy::decode_header_block(spdy::encode_header_block({{"Upper", "x"}})).ok());
  EXPECT_FALSE(spdy::decode_header_block(spdy::encode_header_block({{"", "x"}})).ok());
}

TEST(SpdyHeadersTest, DictionaryIsTheDraftOne) {
  auto dict = spdy::header_dictionary();
  ASSERT_EQ(dict.size(), 1423u);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(dict.data()), dict.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  EXPECT_EQ(hex, "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02");
}

TEST(SpdyHeadersTest, CompressionSharesOneStreamPerDirection) {
  spdy::HeaderCompressor deflater;
  spdy::HeaderDecompressor inflater;
  for (int i = 0; i < 20; i++) {
    spdy::HeaderList headers{{"streamtype", i % 2 ? "stdin" : "stdout"}, {"requestid", std::to_string(i)}};
    auto block = deflater.compress(headers);
    ASSERT_TRUE(block.ok());
    auto back = inflater.decompress(*block);
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(*back, headers);
  }
  // A second decompressor that missed the earlier blocks cannot read a later one.
  spdy::HeaderDecompressor late;
  auto block = deflater.compress({{"streamtype", "error"}});
  EXPECT_FALSE(late.decompress(*block).ok());
}

TEST(SpdyHeadersTest, RefusesGarbageAndBombs) {
  spdy::HeaderDecompressor inflater;
  EXPECT_FALSE(inflater.decompress("not zlib at all").ok());
  EXPECT_FALSE(inflater.decompress("again").ok());  // the stream stays broken
  spdy::HeaderCompressor deflater;
  spdy::HeaderDecompressor small(1024);
  auto bomb = deflater.compress({{"x", std::string(100000, 'a')}});
  ASSERT_TRUE(bomb.ok());
  EXPECT_LT(bomb->size(), 1000u);
  auto r = small.decompress(*bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("beyond 1024 bytes"), std::string::npos);
}

TEST(WebSocketFrameTest, AcceptKeyOfTheRfcExample) {
  EXPECT_EQ(websocket::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketFrameTest, MaskedFramesOfEveryLengthEncoding) {
  for (size_t n : {size_t{0}, size_t{5}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}, size_t{300000}}) {
    std::string payload(n, 'x');
    for (size_t i = 0; i < n; i++) payload[i] = static_cast<char>(i * 7);
    std::string frame = websocket::encode_frame(websocket::Opcode::kBinary, payload, true, true, 0x01020304);
    size_t consumed = 0;
    auto r = websocket::parse_frame(frame, consumed);
    ASSERT_TRUE(r.ok() && r->has_value()) << n;
    EXPECT_EQ(consumed, frame.size());
    EXPECT_TRUE((*r)->masked);
    EXPECT_EQ((*r)->payload, payload) << n;
    auto partial = websocket::parse_frame(std::string_view(frame).substr(0, frame.size() - 1), consumed);
    ASSERT_TRUE(partial.ok());
    EXPECT_FALSE(partial->has_value());
  }
}

TEST(WebSocketFrameTest, RefusesWhatTheRfcForbids) {
  size_t consumed = 0;
  auto refused = [&](const std::string& bytes) { return !websocket::parse_frame(bytes, consumed).ok(); };
  EXPECT_TRUE(refused(websocket::encode_frame(websocket::Opcode::kBinary, "x")));  // unmasked client frame
  EXPECT_TRUE(refused(std::string("\xc2\x80\0\0\0\0", 6)));                       // RSV1 set
  EXPECT_TRUE(refused(std::string("\x83\x80\0\0\0\0", 6)));                       // opcode 3
  EXPECT_TRUE(refused(websocket::encode_frame(websocket::Opcode::kPing, "p", false, true, 1)));  // fragmented ping
  EXPECT_TRUE(refused(websocket::encode_frame(websocket::Opcode::kPing, std::string(126, 'p'), true, true, 1)));
  EXPECT_TRUE(refused(std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10)));  // 64-bit length with the top bit
  EXPECT_TRUE(refused(std::string("\x82\xff\0\0\0\0\0\x20\0\0", 10)));  // 2 MiB frame
}

TEST(WebSocketFrameTest, ReassemblesFragmentsAroundControlFrames) {
  websocket::MessageAssembler a;
  auto first = a.add({false, websocket::Opcode::kBinary, true, "he"});
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  auto ping = a.add({true, websocket::Opcode::kPing, true, "p"});
  ASSERT_TRUE(ping.ok() && ping->has_value());
  EXPECT_EQ((*ping)->opcode, websocket::Opcode::kPing);
  ASSERT_FALSE(a.add({false, websocket::Opcode::kContinuation, true, "ll"}).value().has_value());
  auto done = a.add({true, websocket::Opcode::kContinuation, true, "o"});
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_EQ((*done)->payload, "hello");
  EXPECT_EQ((*done)->opcode, websocket::Opcode::kBinary);

  websocket::MessageAssembler b;
  EXPECT_FALSE(b.add({true, websocket::Opcode::kContinuation, true, "x"}).ok());
  websocket::MessageAssembler c;
  ASSERT_TRUE(c.add({false, websocket::Opcode::kText, true, "x"}).ok());
  EXPECT_FALSE(c.add({true, websocket::Opcode::kBinary, true, "y"}).ok());
}

TEST(WebSocketFrameTest, Base64) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto back = websocket::base64_decode(websocket::base64_encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(websocket::base64_decode("abc").ok());
  EXPECT_FALSE(websocket::base64_decode("a!c=").ok());
}

TEST(HttpRequestTest, ParsesAnUpgradeRequest) {
  auto r = parse_http_request(
      "POST /exec/tok?command=sh&command=-c&tty=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io, "
      "v2.channel.k8s.io\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/exec/tok");
  EXPECT_EQ(r->query_values("command"), (std::vector<std::string>{"sh", "-c"}));
  EXPECT_TRUE(r->header_has_token("connection", "upgrade"));
  EXPECT_EQ(r->header_values("x-stream-protocol-version"),
            (std::vector<std::string>{"v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io"}));
  EXPECT_FALSE(parse_http_request("GET / HTTP/1.0\r\n\r\n").ok());
  EXPECT_FALSE(parse_http_request("GET relative HTTP/1.1\r\n\r\n").ok());
  EXPECT_FALSE(parse_http_request("GET / HTTP/1.1\r\nno colon\r\n\r\n").ok());
}

TEST(TokenCacheTest, OneUseExpiryAndBound) {
  TokenCache cache(2, std::chrono::minutes(1));
  auto a = cache.insert(ExecRequest{"c", {"sh"}});
  auto b = cache.insert(AttachRequest{"c"});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), 22u);
  EXPECT_FALSE(cache.insert(PortForwardRequest{"p"}).ok());  // bounded
  auto got = cache.consume(*a);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::get<ExecRequest>(*got).cmd, std::vector<std::string>{"sh"});
  EXPECT_FALSE(cache.consume(*a));  // once
  EXPECT_TRUE(cache.insert(PortForwardRequest{"p"}).ok());

  TokenCache expired(10, std::chrono::milliseconds(0));
  auto t = expired.insert(ExecRequest{"c", {"sh"}});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(expired.consume(*t));
  EXPECT_EQ(expired.size(), 0u);
}

TEST(RemoteCommandTest, ResizeDecoderSplitsObjects) {
  ResizeDecoder d;
  auto first = d.feed(R"({"Width":80,"Height":24}{"Width")");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, (std::vector<TerminalSize>{{80, 24}}));
  auto second = d.feed(R"(:100, "Height":50, "Note":"}{"})" "\n");
  ASSERT_TRUE(second.ok()) << second.error().what();
  EXPECT_EQ(*second, (std::vector<TerminalSize>{{100, 50}}));
  ResizeDecoder bad;
  EXPECT_FALSE(bad.feed("[1,2]").ok());
  ResizeDecoder huge;
  EXPECT_FALSE(huge.feed(R"({"Width":70000,"Height":1})").ok());
  ResizeDecoder endless;
  EXPECT_FALSE(endless.feed("{\"a\":\"" + std::string(5000, 'x')).ok());
}

TEST(RemoteCommandTest, ErrorStreamMessages) {
  CommandOutcome ok{0, "", {"ls"}};
  EXPECT_EQ(error_stream_message(4, ok), R"({"metadata":{},"status":"Success"})");
  EXPECT_EQ(error_stream_message(3, ok), "");
  CommandOutcome failed{std::nullopt, "no such container", {"ls"}};
  EXPECT_EQ(error_stream_message(2, failed), "no such container");
  EXPECT_EQ(error_stream_message(5, failed),
            R"({"metadata":{},"status":"Failure","message":"no such container","reason":"InternalError",)"
            R"("details":{"causes":[{"message":"no such container"}]},"code":500})");
  EXPECT_EQ(choose_protocol({"v5.channel.k8s.io", "v4.channel.k8s.io"}, {kStreamProtocolV4, kStreamProtocolV3}),
            "v4.channel.k8s.io");
  EXPECT_FALSE(choose_protocol({"v1.channel.k8s.io"}, {kStreamProtocolV4}));
}

}  // namespace
}  // namespace berth::cri::streaming
