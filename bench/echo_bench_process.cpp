// actio-echo-bench: system helpers (see echo_bench.hpp).

#include "echo_bench.hpp"

namespace echo_bench {

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0)
    sys_fail("readlink(/proc/self/exe)");
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

void raise_fd_limit(int needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < static_cast<rlim_t>(needed) + 64)
    std::fprintf(stderr, "%s: warning: open-file limit %llu may be too low for %d connections\n",
                 prog, static_cast<unsigned long long>(rl.rlim_cur), needed);
}

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set))
        cpus.push_back(c);
  return cpus;
}

bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

// utime + stime of a process (all threads), in seconds.
std::optional<double> process_cpu_seconds(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f)
    return std::nullopt;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Field 2 (comm) may contain spaces and parentheses; the fields after the
  // last ')' start at field 3 (state), so utime (14) and stime (15) are the
  // 12th and 13th of them.
  const char* rest = std::strrchr(buf, ')');
  if (!rest)
    return std::nullopt;
  std::istringstream in(rest + 1);
  std::string field;
  for (int i = 3; i < 14 && in >> field; ++i) {
  }
  unsigned long long utime = 0, stime = 0;
  if (!(in >> utime >> stime))
    return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "ended with wait status " + std::to_string(status);
}


std::optional<double> machine_busy_seconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f)
    return std::nullopt;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                      &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8)
    return std::nullopt;
  // user nice system [idle iowait] irq softirq steal
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace echo_bench
