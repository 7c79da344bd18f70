#include "berth/common/startup_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>


namespace berth {
namespace {

struct Mapping {
  uintptr_t start = 0, end = 0;
  bool droppable = false;  // read-only, private, a file's
  size_t rss_kib = 0;
  size_t anonymous_kib = 0;
};

// /proc/self/smaps: a header line per mapping ("start-end perms offset dev inode path"), then
// "Key: value kB" lines about it.
std::vector<Mapping> read_mappings() {
  std::vector<Mapping> out;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    if (line.empty()) continue;
    // A header starts with the range: its '-' comes before any ':' (the device has one).
    size_t dash = line.find('-'), colon = line.find(':');
    bool header = dash != std::string::npos && dash < colon;
    if (header) {
      std::istringstream fields(line);
      std::string range, perms, offset, dev, inode, path;
      fields >> range >> perms >> offset >> dev >> inode >> path;
      Mapping m;
      m.start = std::stoull(range.substr(0, dash), nullptr, 16);
      m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
      m.droppable = perms.size() == 4 && perms[1] == '-' && perms[3] == 'p' && path.starts_with("/");
      out.push_back(m);
      continue;
    }
    if (out.empty()) continue;
    auto value = [&] { return static_cast<size_t>(std::stoull(line.substr(colon + 1))); };
    if (line.starts_with("Rss:")) out.back().rss_kib = value();
    if (line.starts_with("Anonymous:")) out.back().anonymous_kib = value();
  }
  return out;
}

}  // namespace

size_t drop_startup_file_pages() {
  size_t dropped = 0;
  for (const Mapping& m : read_mappings()) {
    if (!m.droppable || m.anonymous_kib != 0 || m.rss_kib == 0) continue;
    if (::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0)
      dropped += m.rss_kib;
  }
  return dropped;
}

}  // namespace berth
