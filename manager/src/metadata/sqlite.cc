#include "metadata/sqlite.h"

#include <cerrno>

namespace berth::manager::sql {

ErrorCode error_code_for(int extended_rc) {
  switch (extended_rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE: return ErrorCode::kAlreadyExists;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return ErrorCode::kNotFound;  // the row it refers to is gone
    default: break;
  }
  switch (extended_rc & 0xff) {
    case SQLITE_CONSTRAINT: return ErrorCode::kFailedPrecondition;
    case SQLITE_FULL:
    case SQLITE_NOMEM: return ErrorCode::kResourceExhausted;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN: return ErrorCode::kUnavailable;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return ErrorCode::kPermissionDenied;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return ErrorCode::kDataLoss;
    default: return ErrorCode::kInternal;
  }
}

Error error_for(sqlite3* db, int rc, std::string_view what) {
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  if ((extended & 0xff) != (rc & 0xff)) extended = rc;
  // A write that hit a full disk shows as SQLITE_FULL, or as an I/O error whose errno says so.
  int sys = db != nullptr ? sqlite3_system_errno(db) : 0;
  ErrorCode code = error_code_for(extended);
  if ((extended & 0xff) == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT)) code = ErrorCode::kResourceExhausted;
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (code == ErrorCode::kResourceExhausted && (extended & 0xff) != SQLITE_NOMEM) {
    return make_error(code, "sqlite{}{}: no space left for the metadata database ({})", what.empty() ? "" : " ", what, msg);
  }
  return make_error(code, "sqlite{}{}: {}", what.empty() ? "" : " ", what, msg);
}

Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error_for(db_, rc, "");
}

Status Statement::run() {
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return {};
  }
}

std::string Statement::text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

Result<Database> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  Database out(db);
  if (rc != SQLITE_OK)
    return make_error(ErrorCode::kInternal, "open database {}: {}", path, sqlite3_errstr(rc));
  sqlite3_busy_timeout(db, 5000);
  // A 512 KiB page cache, not SQLite's 2 MiB: the metadata is small, the kernel caches the file
  // anyway, and berthd's resident memory is a figure users compare with containerd's.
  BERTH_TRY(out.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                     "PRAGMA cache_size=-512;"));
  return out;
}

Result<Statement> Database::prepare(std::string_view text) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, text.data(), static_cast<int>(text.size()), &stmt, nullptr) != SQLITE_OK) {
    return error("prepare");  // SQLITE_FULL etc. keep their code
  }
  return Statement(db_, stmt);
}

Status Database::exec(const std::string& text) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    sqlite3_free(msg);
    return error_for(db_, rc, "");
  }
  return {};
}

Error Database::error(std::string_view what) const {
  return error_for(db_, sqlite3_errcode(db_), what);
}

}  // namespace berth::manager::sql
