// actio-echo-bench: a server under test as a child process (see
// echo_bench.hpp).

#pragma once

#include "echo_bench.hpp"

namespace echo_bench {

class ServerProcess {
public:
  ServerProcess(std::string name, std::string path, std::vector<std::string> args,
                std::optional<int> cpu)
      : name_(std::move(name)) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
      sys_fail("pipe2");
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0)
      sys_fail("fork");
    if (pid_ == 0) {
      // Child: stdout -> pipe, die with the bench, optionally pinned.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent)
        _exit(127);
      if (cpu && !pin_to_cpu(*cpu))
        perror("sched_setaffinity(server)");
      if (dup2(fds[1], STDOUT_FILENO) < 0) {
        perror("dup2");
        _exit(127);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(path.c_str()));
      for (auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      std::fprintf(stderr, "%s: exec %s: %s\n", prog, path.c_str(), std::strerror(errno));
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
    if (fcntl(out_fd_, F_SETFL, O_NONBLOCK) < 0)
      sys_fail("fcntl(O_NONBLOCK)");
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  ~ServerProcess() {
    if (!reaped_) {
      try {
        stop();
      } catch (...) {
      }
    }
    if (out_fd_ >= 0)
      close(out_fd_);
  }

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }
  const std::string& name() const { return name_; }

  // Reads stdout until a line contains "listening on 127.0.0.1:PORT".
  uint16_t wait_for_port() {
    const std::string marker = std::string("listening on ") + loopback + ":";
    auto deadline = Clock::now() + startup_timeout;
    for (;;) {
      for (size_t nl; (nl = line_buf_.find('\n')) != std::string::npos;) {
        std::string line = line_buf_.substr(0, nl);
        line_buf_.erase(0, nl + 1);
        if (auto pos = line.find(marker); pos != std::string::npos) {
          char* end = nullptr;
          unsigned long port = std::strtoul(line.c_str() + pos + marker.size(), &end, 10);
          if (port == 0 || port > 65535)
            throw BenchError(name_ + ": cannot parse port from line: " + line);
          return static_cast<uint16_t>(port);
        }
        std::fprintf(stderr, "[%s] %s\n", name_.c_str(), line.c_str());
      }
      auto left = duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0)
        throw BenchError(name_ + ": no 'listening on " + loopback + ":PORT' line within " +
                         std::to_string(startup_timeout.count()) + " s");
      pollfd pfd{out_fd_, POLLIN, 0};
      int r = poll(&pfd, 1, static_cast<int>(left));
      if (r < 0 && errno != EINTR)
        sys_fail("poll");
      if (r > 0 && !read_output()) {
        // Give an exiting server a moment, so its exit status can be shown.
        for (int i = 0; i < 50 && !exited(); ++i)
          usleep(10 * 1000);
        throw BenchError(name_ + ": closed stdout before listening (" + exit_note() + ")");
      }
    }
  }

  // Forwards whatever the server printed (after startup) to our stderr.
  // Returns false on EOF.
  bool read_output() {
    char buf[4096];
    for (;;) {
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n > 0) {
        line_buf_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0)
        return false;
      if (errno == EINTR)
        continue;
      return true; // EAGAIN (or an error we do not care about)
    }
  }

  void forward_output() {
    for (size_t nl; (nl = line_buf_.find('\n')) != std::string::npos;) {
      std::fprintf(stderr, "[%s] %s\n", name_.c_str(), line_buf_.substr(0, nl).c_str());
      line_buf_.erase(0, nl + 1);
    }
  }

  // Non-blocking: has the process ended (and been reaped)?
  bool exited() {
    int st = 0;
    if (!reaped_ && waitpid(pid_, &st, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = st;
    }
    return reaped_;
  }

  // "still running" or how it ended, for error messages.
  std::string exit_note() { return exited() ? describe_status(status_) : "still running"; }

  // SIGTERM, wait up to 5 s, then SIGKILL. Returns a problem description,
  // or an empty string if the server exited with status 0.
  std::string stop() {
    std::string problem;
    if (!reaped_) {
      kill(pid_, SIGTERM);
      auto deadline = Clock::now() + exit_timeout;
      while (!reaped_) {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
          reaped_ = true;
          status_ = st;
          break;
        }
        if (r < 0 && errno != EINTR)
          sys_fail("waitpid");
        if (Clock::now() >= deadline) {
          problem = "did not exit within " + std::to_string(exit_timeout.count()) +
                    " s of SIGTERM; sent SIGKILL; ";
          kill(pid_, SIGKILL);
          while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
          }
          reaped_ = true;
          status_ = st;
          break;
        }
        read_output();
        forward_output();
        usleep(10 * 1000);
      }
    }
    read_output();
    if (!line_buf_.empty() && line_buf_.back() != '\n')
      line_buf_ += '\n';
    forward_output();
    if (!WIFEXITED(status_) || WEXITSTATUS(status_) != 0 || !problem.empty())
      problem += describe_status(status_);
    return problem;
  }

private:
  std::string name_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string line_buf_;
};


} // namespace echo_bench
