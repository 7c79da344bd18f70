// docker cp: files between a container (running or stopped) and the host, as tars streamed through
// berthd. Which side names the container, where the copy lands and who owns it follow docker's rules.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <ostream>

#include "berth/common/unique_fd.h"
#include "container_client.h"
#include "context_tar.h"
#include "upload.h"

namespace berth::cli {
namespace {

struct CopyOptions {
  bool archive = false;  // -a: owners as at the source (else the destination's user: root in a container, us here)
  bool follow_link = false;  // -L
};

// "CTR:/path" names a container's path; a path starting with / or . is local even with a colon (docker's rule).
bool names_container(const std::string& word) {
  size_t colon = word.find(':');
  return colon != std::string::npos && colon > 0 && word[0] != '/' && word[0] != '.' &&
         word.find('/') > colon;
}

std::string parent_of(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string base_of(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

Result<pb::ContainerPathStat> stat_path(Context& ctx, const std::string& id, const std::string& path, bool follow) {
  pb::ContainerPathRequest req;
  req.set_id(id);
  req.set_path(path);
  req.set_follow_link(follow);
  pb::ContainerPathStat stat;
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.StatPath(c, req, &stat); }));
  return stat;
}

// The tar's bytes from berthd, for libarchive's reader.
struct ChunkReader {
  grpc::ClientReaderInterface<pb::DataChunk>* reader;
  pb::DataChunk chunk;
};
la_ssize_t read_chunk(archive*, void* opaque, const void** out) {
  auto* r = static_cast<ChunkReader*>(opaque);
  if (!r->reader->Read(&r->chunk)) return 0;
  *out = r->chunk.data().data();
  return static_cast<la_ssize_t>(r->chunk.data().size());
}

// Extracts the container's tar into dir, its top entry renamed to `rename` when set. Relative names only
// (dir is entered for the time of it): libarchive refuses "..", absolute names and paths through symlinks.
Status extract_here(grpc::ClientReaderInterface<pb::DataChunk>* stream, const std::string& dir,
                    const std::string& rename, const CopyOptions& options) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd back, open_fd(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (::chdir(dir.c_str()) < 0) return sys_error("{}", dir);
  std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
  std::unique_ptr<archive, int (*)(archive*)> out(archive_write_disk_new(), archive_write_free);
  archive_read_support_format_tar(in.get());
  int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
              ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | (options.archive ? ARCHIVE_EXTRACT_OWNER : 0);
  archive_write_disk_set_options(out.get(), flags);
  ChunkReader source{stream, {}};
  Status done = [&]() -> Status {
    if (archive_read_open(in.get(), &source, nullptr, read_chunk, nullptr) != ARCHIVE_OK)
      return make_error(ErrorCode::kInternal, "read the copy: {}", archive_error_string(in.get()));
    archive_entry* entry = nullptr;
    for (;;) {
      int r = archive_read_next_header(in.get(), &entry);
      if (r == ARCHIVE_EOF) return {};
      if (r != ARCHIVE_OK) return make_error(ErrorCode::kInternal, "read the copy: {}", archive_error_string(in.get()));
      std::string name = archive_entry_pathname(entry);
      if (!rename.empty()) {
        size_t slash = name.find('/');
        name = rename + (slash == std::string::npos ? "" : name.substr(slash));
        archive_entry_set_pathname(entry, name.c_str());
      }
      if (archive_write_header(out.get(), entry) != ARCHIVE_OK)
        return make_error(ErrorCode::kInternal, "{}: {}", name, archive_error_string(out.get()));
      const void* block;
      size_t size;
      la_int64_t offset;
      while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
        if (archive_write_data_block(out.get(), block, size, offset) != ARCHIVE_OK)
          return make_error(ErrorCode::kInternal, "{}: {}", name, archive_error_string(out.get()));
      }
      if (r != ARCHIVE_EOF) return make_error(ErrorCode::kInternal, "{}: {}", name, archive_error_string(in.get()));
      if (archive_write_finish_entry(out.get()) != ARCHIVE_OK)
        return make_error(ErrorCode::kInternal, "{}: {}", name, archive_error_string(out.get()));
    }
  }();
  if (::fchdir(back.get()) < 0 && done) done = sys_error("back to the working directory");
  return done;
}

Status copy_from(Context& ctx, const std::string& id, const std::string& path, const std::string& dest,
                 const CopyOptions& options) {
  std::string dir, rename;
  if (dest != "-") {
    BERTH_ASSIGN_OR_RETURN(auto source, stat_path(ctx, id, path, options.follow_link));
    bool source_dir = S_ISDIR(source.mode());
    struct stat st {};
    bool exists = ::stat(dest.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
      dir = dest;  // into it, under the source's name
    } else {  // it becomes dest
      if (exists && source_dir) return make_error(ErrorCode::kInvalidArgument, "cannot copy a directory to a file: {}", dest);
      if (!exists && dest.back() == '/' && !source_dir)
        return make_error(ErrorCode::kNotFound, "destination directory {} does not exist", dest);
      dir = parent_of(dest);
      rename = base_of(dest);
    }
  }
  pb::ContainerPathRequest req;
  req.set_id(id);
  req.set_path(path);
  req.set_follow_link(options.follow_link);
  auto call = ctx.call();
  auto reader = pb::Containers::NewStub(ctx.channel)->CopyFrom(call.get(), req);
  Status done;
  if (dest == "-") {
    pb::DataChunk chunk;
    while (reader->Read(&chunk) && ctx.out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()))) {
    }
    ctx.out.flush();
    if (!ctx.out) done = make_error(ErrorCode::kUnavailable, "write the tar to stdout");
  } else {
    done = extract_here(reader.get(), dir, rename, options);
  }
  if (!done) call->TryCancel();
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);  // berthd's reason first: it is why the tar ended
  return done;
}

Status copy_to(Context& ctx, const std::string& source, const std::string& id, const std::string& path,
               const CopyOptions& options) {
  std::string dir = path, name;
  if (source != "-") {  // "-": a tar on stdin, extracted into the directory path
    struct stat st {};
    if ((options.follow_link ? ::stat(source.c_str(), &st) : ::lstat(source.c_str(), &st)) < 0)
      return sys_error("lstat {}", source);
    auto dest = stat_path(ctx, id, path, true);
    if (dest && S_ISDIR(dest->mode())) {
      name = base_of(source);
    } else if (dest) {
      if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::kInvalidArgument, "cannot copy a directory to a file: {}", path);
      dir = parent_of(path);
      name = base_of(path);
    } else if (dest.error().code() == ErrorCode::kNotFound) {
      if (path.back() == '/' && !S_ISDIR(st.st_mode))
        return make_error(ErrorCode::kNotFound, "destination directory {} does not exist in the container", path);
      dir = parent_of(path);
      name = base_of(path);
    } else {
      return std::move(dest).error();
    }
    if (name == "/" || name == ".") name = base_of(source);
  }
  auto upload = open_upload(ctx, &pb::Containers::Stub::CopyTo);
  pb::ContainerCopyInChunk chunk;
  chunk.set_id(id);
  chunk.set_dir(dir);
  bool open = upload.writer->Write(chunk);
  chunk.clear_id();
  chunk.clear_dir();
  auto send = [&](std::string_view data) {
    chunk.set_data(data.data(), data.size());
    return open = open && upload.writer->Write(chunk);
  };
  Status sent;
  if (source == "-") {
    if (open) sent = stream_fd(STDIN_FILENO, "stdin", send);
  } else {
    sent = write_path_tar(source, {name, options.follow_link, !options.archive}, send);
  }
  return upload.finish(sent);
}

}  // namespace

Status cp(Context& ctx, const std::vector<std::string>& args) {
  CopyOptions options;
  bool quiet = false;
  std::vector<std::string> paths;
  po::options_description desc("cp options");
  desc.add_options()("archive,a", po::bool_switch(&options.archive))("follow-link,L", po::bool_switch(&options.follow_link))(
      "quiet,q", po::bool_switch(&quiet));
  parse_with_ids(desc, args, paths);
  const char* usage = "usage: berthctl cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-  or  cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH";
  if (paths.size() != 2) throw UsageError(usage);
  bool from = names_container(paths[0]), to = names_container(paths[1]);
  if (from && to) return make_error(ErrorCode::kInvalidArgument, "copying between containers is not supported");
  if (!from && !to) return make_error(ErrorCode::kInvalidArgument, "must specify at least one container source");
  const std::string& word = from ? paths[0] : paths[1];
  size_t colon = word.find(':');
  std::string path = word.substr(colon + 1);
  if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: the path in the container is empty", word);
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, word.substr(0, colon)));
  if (from) {
    if (paths[1].empty()) throw UsageError(usage);
    return copy_from(ctx, id, path, paths[1], options);
  }
  return copy_to(ctx, paths[0], id, path, options);
}

}  // namespace berth::cli
