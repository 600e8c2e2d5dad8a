// What the integration tests share: child processes that serve (receiver, webhook), a CA and a
// server certificate generated per test, and the scenario DB built from the real feeds.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

namespace scangate::it {

// Generous: the machine running the tests may be busy compiling.
constexpr auto kStartTimeout = std::chrono::seconds(60);

// A child process (stdout and stderr to `log`), stopped with SIGTERM when this goes away.
struct Child {
  pid_t pid = -1;
  std::string log;

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { stop(); }

  void spawn(const std::vector<std::string>& argv, const std::string& log_file) {
    log = log_file;
    { std::ofstream create(log, std::ios::app); }  // exists before the first read; restarts append
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_APPEND);
      dup2(fd, 2);
      dup2(fd, 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }

  bool running() {
    int st = 0;
    if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid) pid = -1;
    return pid > 0;
  }

  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
  }

  // The groups of the first match of `re` in the log at or after byte `from`, polled until
  // `timeout`; empty when it never shows or the process exits first.
  std::vector<std::string> wait_for(const std::regex& re, std::chrono::seconds timeout, size_t from = 0) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::string text = scangate::test::read_file(log);
      text = from < text.size() ? text.substr(from) : std::string();
      std::smatch m;
      if (std::regex_search(text, m, re)) return {m.begin(), m.end()};
      if (!running() || std::chrono::steady_clock::now() > until) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

inline void sh(const std::vector<std::string>& argv) {
  auto r = scangate::test::run_process(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// A CA (d/ca.pem) and a server certificate for 127.0.0.1 (d/tls.crt, d/tls.key), as
// cert-manager would issue them.
inline void make_certificates(const std::string& d) {
  sh({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key", "-out",
      d + "/ca.pem", "-days", "2", "-subj", "/CN=scangate-test-ca"});
  sh({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/tls.key", "-out", d + "/tls.csr",
      "-subj", "/CN=scangate-test-server"});
  {
    std::ofstream ext(d + "/ext.cnf");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  sh({"/usr/bin/openssl", "x509", "-req", "-in", d + "/tls.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
      "-CAcreateserial", "-out", d + "/tls.crt", "-days", "2", "-extfile", d + "/ext.cnf"});
}

// The scenario DB (Alpine secdb for the scenario's releases + the scenario's NVD records),
// built once per test process.
inline const std::string& scenario_db() {
  static const std::string path = [] {
    std::string dir = scangate::test::make_temp_dir("sg-db");
    std::vector<std::string> argv = {SCANGATE_CLI, "db", "build", "--quiet", "--output", dir + "/db.sqlite"};
    for (const char* v : {"3.10", "3.14", "3.15", "3.18", "3.20"}) {
      argv.push_back("--alpine-secdb");
      argv.push_back(scangate::test::testdata(std::string("scenario/secdb/v") + v + "-main.json"));
    }
    argv.push_back("--nvd");
    argv.push_back(scangate::test::testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
    sh(argv);
    return dir + "/db.sqlite";
  }();
  return path;
}

}  // namespace scangate::it
