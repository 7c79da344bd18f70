// Thin RAII over sqlite3: a connection and prepared statements with typed binds.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth::manager::sql {

// An SQLite result code (extended codes included) as the error code it means: a unique or primary
// key clash is "already exists", a full disk "resource exhausted", a busy database "unavailable",
// everything unknown "internal" (issue 16: every failure used to read "already exists").
ErrorCode error_code_for(int extended_rc);
// The error for rc on db (errno-aware: an I/O error from ENOSPC is a full disk too).
Error error_for(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Statement(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, int64_t v);
  // true: a row is available; false: done.
  Result<bool> step();
  // Runs to completion.
  Status run();
  std::string text(int col) const;
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  static Result<Database> open(const std::string& path);
  Database(Database&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Database(const Database&) = delete;
  ~Database() { sqlite3_close_v2(db_); }

  Result<Statement> prepare(std::string_view sql);
  Status exec(const std::string& sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  Error error(std::string_view what) const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace berth::manager::sql
