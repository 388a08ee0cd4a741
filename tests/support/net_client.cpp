#include "support/net_client.hpp"


#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace actio::test {

namespace {

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

bool wait_fd(int fd, short events, clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0)
      return true;
    if (rc == 0)
      return false;
    if (errno != EINTR)
      return false;
  }
}

} // namespace

int connect_tcp(uint16_t port, int rcvbuf) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (rcvbuf > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

refusing_port::refusing_port() {
  fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
}

refusing_port::~refusing_port() {
  if (fd >= 0)
    ::close(fd);
}

bool send_all(int fd, const uint8_t* data, size_t size,
              clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  size_t done = 0;
  while (done < size) {
    if (!wait_fd(fd, POLLOUT, deadline))
      return false;
    auto n = ::send(fd, data + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      done += static_cast<size_t>(n);
    else if (n < 0 && errno != EAGAIN && errno != EINTR)
      return false;
  }
  return true;
}

bool recv_exact(int fd, uint8_t* data, size_t size, clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  size_t done = 0;
  while (done < size) {
    if (!wait_fd(fd, POLLIN, deadline))
      return false;
    auto n = ::recv(fd, data + done, size - done, MSG_DONTWAIT);
    if (n > 0)
      done += static_cast<size_t>(n);
    else if (n == 0)
      return false;
    else if (errno != EAGAIN && errno != EINTR)
      return false;
  }
  return true;
}

bool wait_eof(int fd, clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  char buf[4096];
  for (;;) {
    if (!wait_fd(fd, POLLIN, deadline))
      return false;
    auto n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0)
      return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return false;
  }
}

std::vector<uint8_t> random_bytes(size_t size, uint32_t seed) {
  std::vector<uint8_t> result(size);
  std::mt19937 gen{seed};
  for (size_t i = 0; i + 4 <= size; i += 4) {
    auto x = gen();
    std::memcpy(result.data() + i, &x, 4);
  }
  for (size_t i = size - size % 4; i < size; ++i)
    result[i] = static_cast<uint8_t>(gen());
  return result;
}

size_t count_fds() {
  size_t n = 0;
  if (auto* dir = opendir("/proc/self/fd")) {
    while (auto* entry = readdir(dir))
      if (entry->d_name[0] != '.')
        ++n;
    closedir(dir);
  }
  return n > 0 ? n - 1 : 0; // minus the directory's own descriptor
}

size_t rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoul(line.substr(6)) * 1024;
  return 0;
}

bool wait_until(const std::function<bool()>& pred, clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  auto pause = std::chrono::microseconds{100};
  while (!pred()) {
    if (clock::now() >= deadline)
      return pred();
    std::this_thread::sleep_for(pause); // polling interval, not a sync point
    pause = std::min<std::chrono::microseconds>(pause * 2, 20ms);
  }
  return true;
}

child_process::child_process(child_process&& other) noexcept
  : pid(std::exchange(other.pid, -1)), out(std::exchange(other.out, -1)) {
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (pid > 0)
      stop(SIGKILL, 10s);
    if (out >= 0)
      ::close(out);
    pid = std::exchange(other.pid, -1);
    out = std::exchange(other.out, -1);
  }
  return *this;
}

child_process::~child_process() {
  if (pid > 0)
    stop(SIGKILL, 10s);
  if (out >= 0)
    ::close(out);
}

std::string child_process::read_line(clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  std::string line;
  char c;
  while (wait_fd(out, POLLIN, deadline)) {
    auto n = ::read(out, &c, 1);
    if (n <= 0)
      break;
    if (c == '\n')
      return line;
    line += c;
  }
  return line;
}

int child_process::stop(int sig, clock::duration timeout) {
  if (pid <= 0)
    return -1;
  ::kill(pid, sig);
  auto deadline = clock::now() + timeout;
  int status = 0;
  for (;;) {
    auto rc = ::waitpid(pid, &status, WNOHANG);
    if (rc == pid) {
      pid = -1;
      return status;
    }
    if (clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      pid = -1;
      return -1;
    }
    std::this_thread::sleep_for(5ms); // polling interval for waitpid
  }
}

std::string child_process::read_all(clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  std::string result;
  char buf[4096];
  while (wait_fd(out, POLLIN, deadline)) {
    auto n = ::read(out, buf, sizeof(buf));
    if (n <= 0)
      break;
    result.append(buf, static_cast<size_t>(n));
  }
  return result;
}

child_process spawn_process(const std::string& path,
                            const std::vector<std::string>& args,
                            spawn_options opts) {
  int pipefd[2];
  child_process result;
  if (::pipe2(pipefd, O_CLOEXEC) < 0)
    return result;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (auto& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The child's environment, prepared before fork (not async-signal-safe).
  std::vector<std::string> env_text;
  std::vector<char*> envp;
  if (opts.no_leak_check) {
    std::string asan = "ASAN_OPTIONS=";
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view{*e}.rfind(asan, 0) == 0)
        asan = std::string{*e} + ":";
      else
        env_text.emplace_back(*e);
    }
    env_text.push_back(asan + "detect_leaks=0");
    for (auto& e : env_text)
      envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  int pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::dup2(pipefd[1], STDOUT_FILENO);
    if (opts.merge_stderr)
      ::dup2(pipefd[1], STDERR_FILENO);
    if (opts.nofile > 0) {
      rlimit lim{static_cast<rlim_t>(opts.nofile), static_cast<rlim_t>(opts.nofile)};
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (opts.fsize > 0) {
      rlimit lim{static_cast<rlim_t>(opts.fsize), static_cast<rlim_t>(opts.fsize)};
      ::setrlimit(RLIMIT_FSIZE, &lim);
    }
    if (opts.umask >= 0)
      ::umask(static_cast<mode_t>(opts.umask));
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (opts.no_leak_check)
      ::execve(path.c_str(), argv.data(), envp.data());
    else
      ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  result.pid = pid;
  result.out = pipefd[0];
  return result;
}

bool echoes_random(int fd, uint32_t seed, clock::duration timeout) {
  auto data = random_bytes(1000, seed);
  std::vector<uint8_t> back(data.size());
  return send_all(fd, data.data(), data.size(), timeout)
         && recv_exact(fd, back.data(), back.size(), timeout) && back == data;
}

::testing::AssertionResult exits_with(child_process& child, int sig, int code,
                                      std::string* output) {
  auto status = child.stop(sig, 30s);
  if (output != nullptr)
    *output = child.read_all(10s);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
    return ::testing::AssertionFailure()
           << "wait status " << status << ", expected exit " << code;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult
exits_at_once_on_second_signal(const std::string& path, int sig,
                               std::string* output) {
  auto child = spawn_process(path, {"--port", "0", "--drain-timeout=60"});
  auto port = parse_port(child.read_line());
  if (port == 0)
    return ::testing::AssertionFailure() << "no listening line";
  int fd = connect_tcp(port);
  struct closer {
    int fd;
    ~closer() {
      if (fd >= 0)
        ::close(fd);
    }
  } guard{fd};
  if (fd < 0 || !echoes_random(fd, 1))
    return ::testing::AssertionFailure() << "the connection does not echo";
  if (::kill(child.pid, sig) != 0)
    return ::testing::AssertionFailure() << "kill: " << std::strerror(errno);
  if (!wait_eof(fd, 10s))
    return ::testing::AssertionFailure() << "the drain did not begin";
  auto start = clock::now();
  auto status = child.stop(sig, 30s);
  auto took = clock::now() - start;
  if (output != nullptr)
    *output = child.read_all(10s);
  if (took >= 20s)
    return ::testing::AssertionFailure()
           << "took " << std::chrono::duration<double>(took).count() << " s";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
    return ::testing::AssertionFailure() << "wait status " << status;
  return ::testing::AssertionSuccess();
}

uint16_t parse_port(const std::string& line) {
  auto pos = line.find("listening on ");
  if (pos == std::string::npos)
    return 0;
  auto colon = line.find(':', pos);
  if (colon == std::string::npos)
    return 0;
  return static_cast<uint16_t>(std::stoul(line.substr(colon + 1)));
}

double cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string content;
  std::getline(in, content);
  auto rparen = content.rfind(')');
  if (rparen == std::string::npos)
    return 0;
  std::istringstream fields{content.substr(rparen + 2)};
  std::string field;
  unsigned long utime = 0, stime = 0;
  // Fields after "pid (comm) ": state is #3; utime #14, stime #15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::stoul(field);
    if (i == 15)
      stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime)
         / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace actio::test
