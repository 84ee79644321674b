// Durable job state in SQLite: one row per job (status, progress, options, where the uploaded
// file lies) and one row per finished page. Each page result is written in one transaction
// together with the job's progress counter, and (job, page) is the primary key, so a page is
// recorded exactly once even when the server is killed between pages and the page is redone.
// The uploaded document is stored as a file in `<db>.files/` beside the database.
//
// Threading: thread-safe (one connection, one mutex). Durability: WAL journal; survives
// kill -9 of the process (synchronous=NORMAL).
#pragma once
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace folio::serve {

struct JobRecord {
  std::string id, status, filename, created_at, error;
  nlohmann::json options;       // OcrOptions::to_json() plus "page_list": [0-based indices]
  std::string document_path;
  int pages_total = 0, pages_done = 0;
};

class JobStore {
 public:
  explicit JobStore(const std::string& db_path);  // throws unavailable if it cannot be opened
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Stores the document file, then the job row (status "queued"). Returns the job id.
  std::string create(const std::string& filename, const std::string& document, const nlohmann::json& options,
                     int pages_total);
  std::optional<JobRecord> get(const std::string& id);
  std::vector<nlohmann::json> pages(const std::string& id);  // finished pages, by index
  std::set<int> done_indices(const std::string& id);
  // Records a page once; returns false when that page was already recorded.
  bool record_page(const std::string& id, int index, const nlohmann::json& page);
  void set_status(const std::string& id, const std::string& status, const std::string& error = "");
  // Marks a queued or running job cancelled; false when it does not exist or already ended.
  bool cancel(const std::string& id);
  // The oldest job still to do (queued, or running when the server stopped).
  std::optional<std::string> next_runnable();

 private:
  void exec(const std::string& sql);
  std::string files_dir_;
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace folio::serve
