#include "serve/job_store.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"

namespace folio::serve {
namespace {

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw internal_error(std::string("job store: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, int v) {
    sqlite3_bind_int(stmt_, i, v);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw internal_error(std::string("job store: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  int integer(int col) { return sqlite3_column_int(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

JobStore::JobStore(const std::string& db_path) : files_dir_(db_path + ".files") {
  if (sqlite3_open_v2(db_path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw unavailable("cannot open the job database " + db_path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  // SQLite's page cache fills up to cache_size (2 MiB by default) as the database grows, so a
  // long job's server grew by ~0.4 KB a recorded page until 5,000 pages. Recording a page touches
  // a few B-tree pages, and reads of finished pages come from the OS file cache, so 512 KiB is
  // plenty and the cache stops growing after a few hundred pages.
  exec("PRAGMA cache_size=-512");
  exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL,"
       " options TEXT NOT NULL, document_path TEXT NOT NULL, pages_total INTEGER NOT NULL,"
       " pages_done INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',"
       " seq INTEGER NOT NULL)");
  exec("CREATE TABLE IF NOT EXISTS pages (job_id TEXT NOT NULL, page_index INTEGER NOT NULL, result TEXT NOT NULL,"
       " PRIMARY KEY (job_id, page_index))");
  std::error_code ec;
  std::filesystem::create_directories(files_dir_, ec);
  if (ec) throw unavailable("cannot create " + files_dir_ + ": " + ec.message());
}

JobStore::~JobStore() { sqlite3_close(db_); }

void JobStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    throw internal_error("job store: " + why + " (" + sql.substr(0, 40) + ")");
  }
}

std::string JobStore::create(const std::string& filename, const std::string& document, const nlohmann::json& options,
                             int pages_total) {
  std::string id = random_id();
  std::string path = files_dir_ + "/" + id + ".doc";
  {
    std::ofstream out(path + ".tmp", std::ios::binary);
    out.write(document.data(), static_cast<std::streamsize>(document.size()));
    if (!out.flush()) throw unavailable("cannot store the uploaded document in " + files_dir_);
  }
  std::filesystem::rename(path + ".tmp", path);
  std::lock_guard lock(mutex_);
  Statement(db_,
            "INSERT INTO jobs (id, status, filename, options, document_path, pages_total, created_at, seq)"
            " VALUES (?, 'queued', ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs))")
      .bind(1, id).bind(2, filename).bind(3, options.dump()).bind(4, path).bind(5, pages_total).bind(6, now_iso8601())
      .step();
  return id;
}

std::optional<JobRecord> JobStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT id, status, filename, options, document_path, pages_total, pages_done, created_at, error"
                   " FROM jobs WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  JobRecord r;
  r.id = s.text(0);
  r.status = s.text(1);
  r.filename = s.text(2);
  r.options = nlohmann::json::parse(s.text(3));
  r.document_path = s.text(4);
  r.pages_total = s.integer(5);
  r.pages_done = s.integer(6);
  r.created_at = s.text(7);
  r.error = s.text(8);
  return r;
}

std::vector<nlohmann::json> JobStore::pages(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT result FROM pages WHERE job_id = ? ORDER BY page_index");
  s.bind(1, id);
  std::vector<nlohmann::json> out;
  while (s.step()) out.push_back(nlohmann::json::parse(s.text(0)));
  return out;
}

std::set<int> JobStore::done_indices(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT page_index FROM pages WHERE job_id = ?");
  s.bind(1, id);
  std::set<int> out;
  while (s.step()) out.insert(s.integer(0));
  return out;
}

bool JobStore::record_page(const std::string& id, int index, const nlohmann::json& page) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Statement(db_, "INSERT OR IGNORE INTO pages (job_id, page_index, result) VALUES (?, ?, ?)")
        .bind(1, id).bind(2, index).bind(3, page.dump()).step();
    bool inserted = sqlite3_changes(db_) == 1;
    if (inserted) Statement(db_, "UPDATE jobs SET pages_done = pages_done + 1 WHERE id = ?").bind(1, id).step();
    exec("COMMIT");
    return inserted;
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void JobStore::set_status(const std::string& id, const std::string& status, const std::string& error) {
  std::lock_guard lock(mutex_);
  // A cancelled job stays cancelled even if the runner finishes its last page meanwhile.
  Statement(db_, "UPDATE jobs SET status = ?, error = ? WHERE id = ? AND status != 'cancelled'")
      .bind(1, status).bind(2, error).bind(3, id).step();
}

bool JobStore::cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement(db_, "UPDATE jobs SET status = 'cancelled' WHERE id = ? AND status IN ('queued', 'running')").bind(1, id).step();
  return sqlite3_changes(db_) == 1;
}

std::optional<std::string> JobStore::next_runnable() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT id FROM jobs WHERE status IN ('running', 'queued') ORDER BY seq LIMIT 1");
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

}  // namespace folio::serve
