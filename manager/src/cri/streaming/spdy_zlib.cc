// The zlib side of SPDY header blocks: one deflate and one inflate stream per session, primed with
// the dictionary of the draft, flushed with Z_SYNC_FLUSH after every block.
#include <zlib.h>

#include <array>

#include "cri/streaming/spdy_frame.h"

namespace berth::cri::streaming::spdy {

namespace {

// The dictionary is length-prefixed header names and common values, then a run of status codes,
// reasons, dates and content types without prefixes (draft section 2.6.10.1).
std::string build_dictionary() {
  static constexpr const char* kWords[] = {
      "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
      "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
      "content-base", "content-encoding", "content-language", "content-length", "content-location",
      "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
      "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
      "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
      "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
      "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
      "public", "set-cookie", "keep-alive", "origin"};
  std::string dict;
  for (std::string_view word : kWords) {
    uint32_t n = static_cast<uint32_t>(word.size());
    dict += static_cast<char>(n >> 24);
    dict += static_cast<char>(n >> 16);
    dict += static_cast<char>(n >> 8);
    dict += static_cast<char>(n);
    dict += word;
  }
  dict +=
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
      "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
      "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
      "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
      "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
      "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
  return dict;
}

const Bytef* dict_bytes() { return reinterpret_cast<const Bytef*>(header_dictionary().data()); }
uInt dict_size() { return static_cast<uInt>(header_dictionary().size()); }

}  // namespace

std::string_view header_dictionary() {
  static const std::string dict = build_dictionary();
  return dict;
}

struct HeaderCompressor::State {
  z_stream z{};
  bool ok = false;
};

HeaderCompressor::HeaderCompressor() : state_(new State) {
  state_->ok = deflateInit(&state_->z, Z_DEFAULT_COMPRESSION) == Z_OK &&
               deflateSetDictionary(&state_->z, dict_bytes(), dict_size()) == Z_OK;
}

HeaderCompressor::~HeaderCompressor() {
  deflateEnd(&state_->z);
  delete state_;
}

Result<std::string> HeaderCompressor::compress(const HeaderList& headers) {
  if (!state_->ok) return make_error(ErrorCode::kInternal, "SPDY: zlib deflate did not start");
  std::string in = encode_header_block(headers);
  std::string out;
  state_->z.next_in = reinterpret_cast<Bytef*>(in.data());
  state_->z.avail_in = static_cast<uInt>(in.size());
  std::array<char, 4096> chunk;
  do {
    state_->z.next_out = reinterpret_cast<Bytef*>(chunk.data());
    state_->z.avail_out = chunk.size();
    if (deflate(&state_->z, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
      state_->ok = false;
      return make_error(ErrorCode::kInternal, "SPDY: zlib deflate failed");
    }
    out.append(chunk.data(), chunk.size() - state_->z.avail_out);
  } while (state_->z.avail_out == 0);
  return out;
}

struct HeaderDecompressor::State {
  z_stream z{};
  bool ok = false;
};

HeaderDecompressor::HeaderDecompressor(size_t max_output) : state_(new State), max_output_(max_output) {
  state_->ok = inflateInit(&state_->z) == Z_OK;
}

HeaderDecompressor::~HeaderDecompressor() {
  inflateEnd(&state_->z);
  delete state_;
}

Result<HeaderList> HeaderDecompressor::decompress(std::string_view compressed) {
  // After one error the shared stream is out of step with the peer's: every later block fails too.
  if (!state_->ok) return make_error(ErrorCode::kInvalidArgument, "SPDY: header compression state is broken");
  std::string out;
  z_stream& z = state_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::array<char, 4096> chunk;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(chunk.data());
    z.avail_out = chunk.size();
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      if (inflateSetDictionary(&z, dict_bytes(), dict_size()) != Z_OK) {
        state_->ok = false;
        return make_error(ErrorCode::kInvalidArgument, "SPDY: header block wants another dictionary");
      }
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      state_->ok = false;
      return make_error(ErrorCode::kInvalidArgument, "SPDY: bad compressed header block (zlib {})", rc);
    }
    out.append(chunk.data(), chunk.size() - z.avail_out);
    if (out.size() > max_output_) {
      state_->ok = false;
      return make_error(ErrorCode::kInvalidArgument, "SPDY: header block inflates beyond {} bytes", max_output_);
    }
    // Done when the input is used up and zlib had room to spare; Z_BUF_ERROR means no progress.
    if ((z.avail_in == 0 && z.avail_out != 0) || rc == Z_BUF_ERROR) break;
  }
  return decode_header_block(out);
}

}  // namespace berth::cri::streaming::spdy
