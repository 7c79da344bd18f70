#include "metadata/sqlite.h"

namespace berth::manager::sql {

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
  ErrorCode code = rc == SQLITE_CONSTRAINT ? ErrorCode::kAlreadyExists : ErrorCode::kInternal;
  return make_error(code, "sqlite: {}", sqlite3_errmsg(db_));
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
    return error("prepare");
  }
  return Statement(db_, stmt);
}

Status Database::exec(const std::string& text) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    Error err = make_error(ErrorCode::kInternal, "sqlite: {}", msg ? msg : "unknown error");
    sqlite3_free(msg);
    return err;
  }
  return {};
}

Error Database::error(std::string_view what) const {
  return make_error(ErrorCode::kInternal, "sqlite {}: {}", what, sqlite3_errmsg(db_));
}

}  // namespace berth::manager::sql
