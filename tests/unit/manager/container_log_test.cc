// Reading a container's log back (issue 16 item 7): a record is the container's bytes, whatever they
// are — a NUL does not cut the rest of its line off, bytes that are not UTF-8 do not drop the record.
#include "tasks/container_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"

namespace berth::manager {
namespace {

using namespace std::string_literals;

// A record as berth-shim writes it (json::Writer, UTF-8 not validated).
std::string record(const std::string& stream, const std::string& data) {
  json::Writer w;
  w.begin_object();
  w.key("time").string("2026-12-06T03:00:00.123456789Z");
  w.key("stream").string(stream);
  w.key("log").string(data);
  w.end_object();
  return w.str();
}

TEST(ContainerLog, ARecordKeepsNulsAndBytesThatAreNotUtf8) {
  for (const std::string& data : {"plain\n"s, "a\0b\n"s, "\xff\xfe latin-1 caf\xe9\n"s, "\xed\xa0\x80 surrogate\n"s,
                                  "tab\tquote\" backslash\\ \x01\n"s}) {
    auto entry = parse_log_record(record("stdout", data));
    ASSERT_TRUE(entry.has_value()) << json::quote(data);
    EXPECT_EQ(entry->data, data);
    EXPECT_EQ(entry->stream, "stdout");
    EXPECT_GT(entry->time_unix_nano, 0);
  }
}

TEST(ContainerLog, ForeignOrTornLinesAreNotRecords) {
  EXPECT_FALSE(parse_log_record("").has_value());
  EXPECT_FALSE(parse_log_record(R"({"time":"2026-12-06T03:00:00Z","stream":"stdout","log":"cut)").has_value());
  EXPECT_FALSE(parse_log_record(R"({"time":"yesterday","stream":"stdout","log":"x"})").has_value());
  EXPECT_FALSE(parse_log_record(R"({"stream":"stdout","log":"x"})").has_value());
  EXPECT_FALSE(parse_log_record(R"(["time","stream","log"])").has_value());
  auto nested = parse_log_record(R"({"time":"2026-12-06T03:00:00Z","stream":"stdout","log":"x","attrs":{"log":"y"}})");
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ(nested->data, "x") << "only top-level fields count";
}

TEST(ContainerLog, EveryRecordOfAFileArrivesSeparately) {
  auto dir = TempDir::create("/tmp/berth-log-test-");
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> written = {"one\0two\n"s, "\x80\x81\n"s, "three\n"s};
  std::string text;
  for (const auto& d : written) text += record("stdout", d) + "\n";
  std::string path = dir->path() + "/container.log";
  ASSERT_TRUE(write_file_atomic(path, text).ok());
  std::vector<std::string> got;
  auto st = stream_container_log(path, {}, [] { return false; }, [&](std::vector<LogEntry>&& batch) {
    for (auto& e : batch) got.push_back(e.data);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().what();
  EXPECT_EQ(got, written);
}

}  // namespace
}  // namespace berth::manager
