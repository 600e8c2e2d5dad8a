#include "scanner/image/credential_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "scanner/core/json_depth.h"
#include "scanner/core/log.h"
#include "scanner/core/text_safe.h"

extern char** environ;

namespace scangate {
namespace {

constexpr std::string_view kPrefix = "docker-credential-";
// A real answer is one flat object.
constexpr size_t kMaxAnswerNesting = 8;
// The question must fit in the pipe's buffer (see run_credential_helper) and be a server URL.
constexpr size_t kMaxServerUrl = 1024;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

// Both ends close-on-exec, so no other child of this process inherits them, and above 2: a pipe
// end that already is 0, 1 or 2 would be the target of the child's dup2, which then leaves its
// close-on-exec flag set and the helper without that stream.
bool make_pipe(Pipe& p) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  p.read = Fd(fds[0]);
  p.write = Fd(fds[1]);
  for (Fd* f : {&p.read, &p.write}) {
    if (f->get() > 2) continue;
    int moved = fcntl(f->get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return false;
    *f = Fd(moved);
  }
  return true;
}

// The first executable regular file named `file` in an absolute directory of `path`. Empty and
// relative entries would find a program in whatever the working directory happens to be.
std::optional<std::string> find_in_path(const std::string& file, std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty() || dir.front() != '/') continue;
    std::string candidate = std::string(dir) + (dir.back() == '/' ? "" : "/") + file;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

// Starts `exe get` in a process group of its own (so that a timeout kills whatever it started as
// well) with `in`, `out` and `err` as descriptors 0-2 and nothing else open. Returns the errno.
int spawn(const std::string& exe, const std::string& name, int in, int out, int err, pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (int e = posix_spawn_file_actions_init(&actions)) return e;
  if (int e = posix_spawnattr_init(&attr)) {
    posix_spawn_file_actions_destroy(&actions);
    return e;
  }
  int e = posix_spawn_file_actions_adddup2(&actions, in, 0);
  if (!e) e = posix_spawn_file_actions_adddup2(&actions, out, 1);
  if (!e) e = posix_spawn_file_actions_adddup2(&actions, err, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Our own descriptors are close-on-exec; this also covers one a library opened without it.
  if (!e) e = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  // Signals this process blocks or ignores (the webhook ignores SIGPIPE) would stay blocked or
  // ignored across exec; the helper starts with the defaults.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
    sigaddset(&defaults, sig);
  if (!e) e = posix_spawnattr_setsigmask(&attr, &none);
  if (!e) e = posix_spawnattr_setsigdefault(&attr, &defaults);
  if (!e) e = posix_spawnattr_setpgroup(&attr, 0);
  if (!e) e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!e) {
    std::string arg0 = name, arg1 = "get";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    // The environment passes through: helpers find their own configuration there (AWS_* and the
    // web-identity token file for ECR's, HOME for the desktop stores).
    e = posix_spawn(pid, exe.c_str(), &actions, &attr, argv, environ);
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return e;
}

// Waits for `pid` until `stop`; false when it is still running then.
bool wait_until(pid_t pid, const Deadline& stop, int* status) {
  for (;;) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      *status = -1;  // reaped elsewhere (SIGCHLD ignored): the exit status is lost
      return true;
    }
    if (stop.expired()) return false;
    std::this_thread::sleep_for(std::min(std::chrono::milliseconds(5), stop.remaining()));
  }
}

// The child, killed with its process group, then reaped. The group is killed while the child is
// not yet reaped, so its id cannot belong to anything else.
void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

bool contains_ci(std::string_view text, std::string_view needle) {
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// What the helper said about a failure: its stderr, else its stdout unless that looks like an
// answer (which could hold a secret). Redacted, made printable and short.
std::string failure_detail(std::string_view out, std::string_view err) {
  std::string_view said = trim(err);
  if (said.empty() && !trim(out).starts_with('{')) said = trim(out);
  if (said.empty()) return {};
  return ": " + printable(log::redact(said), 300);
}

}  // namespace

bool valid_credential_helper_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::string credential_helper_server_url(std::string_view registry) {
  std::string host = credential_host_key(registry);
  // `docker login` stores Docker Hub's credentials under its v1 index URL, and helpers are asked
  // about what was stored.
  if (host == "docker.io") return "https://index.docker.io/v1/";
  return host;
}

Result<std::optional<Credential>> run_credential_helper(const std::string& helper, const std::string& server_url,
                                                        const Deadline& deadline,
                                                        const CredentialHelperOptions& options) {
  if (!valid_credential_helper_name(helper))
    return Error(ErrorKind::kInvalidArgument,
                 "credential helper name \"" + printable(helper, 64) +
                     "\" is not valid (only letters, digits, '.', '_' and '-' may follow docker-credential-); "
                     "fix credHelpers/credsStore in the registry config");
  const std::string name = std::string(kPrefix) + helper;
  const std::string who = "credential helper " + name + " (asked for " + printable(server_url, 200) + ")";
  if (server_url.empty() || server_url.size() > kMaxServerUrl)
    return Error(ErrorKind::kInvalidArgument, who + ": the server URL must be 1 to 1024 bytes");
  for (char c : server_url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return Error(ErrorKind::kInvalidArgument, who + ": the server URL holds a control character");

  std::string path;
  if (options.search_path) {
    path = *options.search_path;
  } else if (const char* p = std::getenv("PATH")) {
    path = p;
  }
  auto exe = find_in_path(name, path);
  if (!exe)
    return Error(ErrorKind::kNotFound, who + ": " + name + " was not found in the search path (" +
                                           printable(path, 300) +
                                           "); install it there or remove it from credHelpers/credsStore in the "
                                           "registry config");

  const Deadline own = Deadline::after(options.timeout);
  const Deadline stop = own.earliest(deadline);
  const std::string timeout_text =
      (deadline.when() < own.when() ? std::string("no answer before the deadline")
                                    : "no answer within " + std::to_string(options.timeout.count()) + " ms") +
      "; it was killed";
  if (stop.expired()) return Error(ErrorKind::kNetwork, who + ": the deadline passed before it could run");

  Pipe in, out, err;
  if (!make_pipe(in) || !make_pipe(out) || !make_pipe(err))
    return Error(ErrorKind::kIo, who + ": cannot create a pipe: " + errno_text(errno));
  // The question is written before the child starts, while this process still holds the pipe's
  // read end: it fits in the pipe's buffer, so the write neither blocks nor meets a closed pipe
  // (no SIGPIPE, whatever the helper does).
  const std::string question = server_url + "\n";
  for (size_t done = 0; done < question.size();) {
    ssize_t w = ::write(in.write.get(), question.data() + done, question.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Error(ErrorKind::kIo, who + ": cannot write its input: " + errno_text(errno));
    done += static_cast<size_t>(w);
  }
  in.write.reset();

  pid_t pid = -1;
  if (int e = spawn(*exe, name, in.read.get(), out.write.get(), err.write.get(), &pid))
    return Error(ErrorKind::kIo, who + ": cannot run " + *exe + ": " + errno_text(e));
  in.read.reset();
  out.write.reset();
  err.write.reset();

  std::string out_text, err_text;
  bool out_open = true, err_open = true, timed_out = false, too_long = false;
  char buf[8192];
  while ((out_open || err_open) && !too_long) {
    if (stop.expired()) {
      timed_out = true;
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out.read.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err.read.get(), POLLIN, 0};
    // +1: a wait rounded down to 0 ms would spin until the last millisecond passes.
    int wait_ms = static_cast<int>(stop.remaining(std::chrono::minutes(10)).count()) + 1;
    int ready = ::poll(fds, n, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      kill_and_reap(pid);
      return Error(ErrorKind::kIo, who + ": poll failed: " + errno_text(e));
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) continue;
      const bool is_out = fds[i].fd == out.read.get();
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        (is_out ? out_open : err_open) = false;
        continue;
      }
      if (is_out) {
        out_text.append(buf, static_cast<size_t>(got));
        if (out_text.size() > options.max_stdout) too_long = true;
      } else if (err_text.size() < options.max_stderr) {
        // The rest is drained and dropped: a chatty helper is no error, but it costs no memory.
        err_text.append(buf, std::min(static_cast<size_t>(got), options.max_stderr - err_text.size()));
      }
    }
  }
  if (timed_out) {
    kill_and_reap(pid);
    return Error(ErrorKind::kNetwork, who + ": " + timeout_text);
  }
  if (too_long) {
    kill_and_reap(pid);
    return Error(ErrorKind::kLimit, who + ": its answer is longer than " + std::to_string(options.max_stdout) +
                                        " bytes; it was stopped. Is it a docker credential helper?");
  }
  out.read.reset();
  err.read.reset();
  int status = 0;
  if (!wait_until(pid, stop, &status)) {
    kill_and_reap(pid);
    return Error(ErrorKind::kNetwork, who + ": " + timeout_text);
  }
  if (status == -1) return Error(ErrorKind::kInternal, who + ": its exit status was lost (is SIGCHLD ignored?)");
  if (WIFSIGNALED(status))
    return Error(ErrorKind::kAuth, who + " was killed by signal " + std::to_string(WTERMSIG(status)) +
                                       failure_detail(out_text, err_text));
  if (int code = WEXITSTATUS(status); code != 0) {
    // The protocol's "no credential for this server" (docker-credential-helpers' ErrCredentialsNotFound).
    if (contains_ci(out_text, "credentials not found") || contains_ci(err_text, "credentials not found"))
      return std::optional<Credential>();
    return Error(ErrorKind::kAuth,
                 who + " failed (exit status " + std::to_string(code) + ")" + failure_detail(out_text, err_text));
  }

  // The answer is never quoted in an error: whatever it is, it may hold the secret.
  const std::string not_an_answer = who +
                                    ": its answer is not the JSON object the credential-helper protocol expects "
                                    "({\"ServerURL\": ..., \"Username\": ..., \"Secret\": ...})";
  if (json_nesting(out_text, kMaxAnswerNesting) > kMaxAnswerNesting) return Error(ErrorKind::kFormat, not_an_answer);
  auto j = nlohmann::json::parse(out_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, not_an_answer);
  std::string username, secret;
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"Username", &username}, {"Secret", &secret}}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_string()) return Error(ErrorKind::kFormat, not_an_answer + "; \"" + key + "\" is not a string");
    *dst = it->get<std::string>();
  }
  if (!secret.empty()) log::add_secret(secret);
  Credential c;
  if (username == "<token>") {
    c.identity_token = std::move(secret);
  } else {
    c.username = std::move(username);
    c.password = std::move(secret);
  }
  if (c.empty()) return std::optional<Credential>();
  return std::optional<Credential>(std::move(c));
}

struct CredentialHelpers::Flight {
  std::condition_variable done_cv;
  bool done = false;
  std::optional<Result<std::optional<Credential>>> result;
};

CredentialHelpers::CredentialHelpers(CredentialHelperOptions options) : options_(std::move(options)) {}

Result<std::optional<Credential>> CredentialHelpers::get(const std::string& helper, const std::string& server_url,
                                                         const Deadline& deadline) {
  if (options_.cache_ttl.count() <= 0) return run_credential_helper(helper, server_url, deadline, options_);
  const std::string key = helper + '\n' + server_url;
  std::unique_lock<std::mutex> lock(mu_);
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (Deadline::Clock::now() < it->second.expires) return it->second.credential;
    cache_.erase(it);
  }
  if (auto it = flights_.find(key); it != flights_.end()) {
    std::shared_ptr<Flight> flight = it->second;
    auto finished = [&] { return flight->done; };
    if (deadline.bounded()) {
      if (!flight->done_cv.wait_until(lock, deadline.when(), finished))
        return Error(ErrorKind::kNetwork, "credential helper " + std::string(kPrefix) + helper + " (asked for " +
                                              printable(server_url, 200) +
                                              "): the deadline passed while another request was waiting for it");
    } else {
      flight->done_cv.wait(lock, finished);
    }
    return *flight->result;
  }
  auto flight = std::make_shared<Flight>();
  flights_[key] = flight;
  lock.unlock();

  std::optional<Result<std::optional<Credential>>> result;
  // Whatever happens (even an exception), the callers waiting on this run are released.
  struct Land {
    CredentialHelpers* self;
    const std::string& key;
    std::shared_ptr<Flight>& flight;
    std::optional<Result<std::optional<Credential>>>& result;
    ~Land() {
      std::lock_guard<std::mutex> l(self->mu_);
      if (!result) result = Error(ErrorKind::kInternal, "the credential helper run was abandoned");
      if (result->ok()) {
        const auto now = Deadline::Clock::now();
        for (auto it = self->cache_.begin(); it != self->cache_.end();)
          it = now < it->second.expires ? std::next(it) : self->cache_.erase(it);
        self->cache_[key] = Entry{result->value(), now + self->options_.cache_ttl};
      }
      flight->result = *result;
      flight->done = true;
      self->flights_.erase(key);
      flight->done_cv.notify_all();
    }
  };
  {
    Land land{this, key, flight, result};
    result = run_credential_helper(helper, server_url, deadline, options_);
  }
  return std::move(*result);
}

}  // namespace scangate
