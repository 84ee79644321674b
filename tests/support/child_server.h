// Runs the real `folio serve` binary (FOLIO_BINARY_DIR/folio) as a child process on an ephemeral
// port, for tests that must kill it (-9) or measure its memory. The port is read from the
// "listening on http://..." line it prints.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace folio::testing {

inline std::string folio_binary() { return std::string(FOLIO_BINARY_DIR) + "/folio"; }

class ChildServer {
 public:
  // Starts `folio serve --host 127.0.0.1 --port 0 <args>`; waits (up to 60 s) for its address.
  explicit ChildServer(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> argv_s = {folio_binary(), "serve", "--host", "127.0.0.1", "--port", "0"};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = fdopen(out[0], "r");
    std::regex address(R"(listening on http://[0-9.]+:([0-9]+))");
    char line[1024];
    while (fgets(line, sizeof line, stdout_)) {
      std::smatch m;
      std::string s(line);
      if (std::regex_search(s, m, address)) {
        port_ = std::stoi(m[1]);
        break;
      }
    }
    if (port_ == 0) {
      kill_now();
      throw std::runtime_error("folio serve did not print its address (is " + folio_binary() + " built?)");
    }
  }
  ~ChildServer() { kill_now(); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Peak resident memory so far (VmHWM), bytes.
  long long peak_rss_bytes() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
  }
  void kill_now(int sig = SIGKILL) {
    if (pid_ > 0) {
      kill(pid_, sig);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (stdout_) {
      fclose(stdout_);
      stdout_ = nullptr;
    }
  }
  // Sends SIGTERM and waits for a clean exit; returns the exit status (-1 on timeout/kill).
  int terminate(std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      usleep(20000);
    }
    kill_now();
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* stdout_ = nullptr;
};

}  // namespace folio::testing
