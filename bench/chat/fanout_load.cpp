#include "fanout_load.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace fanout {

namespace {

using clock = std::chrono::steady_clock;

uint64_t now_ns() {
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      clock::now().time_since_epoch())
      .count());
}

struct client {
  int fd = -1;
  size_t target = 0;
  size_t room = 0;
  std::string nick;
  std::string joined_line; // "* NICK joined #ROOM": its own join, seen
  std::string in, out;
  size_t out_off = 0;
  bool want_out = false;
  bool connecting = false;
  bool joined = false;
  uint32_t probe_round = 0; // probes of this round heard so far:
  size_t probes_heard = 0;
  std::vector<uint64_t> last_seq; // per sender: last sequence number heard
};

// Parses an unsigned decimal at `p`, advancing past it and one space.
bool take_number(std::string_view& p, uint64_t& out) {
  size_t i = 0;
  out = 0;
  while (i < p.size() && p[i] >= '0' && p[i] <= '9')
    out = out * 10 + static_cast<uint64_t>(p[i++] - '0');
  if (i == 0)
    return false;
  p.remove_prefix(std::min(i + 1, p.size()));
  return true;
}

class load {
public:
  load(const std::vector<endpoint>& targets, const load_settings& s)
    : targets_(targets), s_(s) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    clients_.resize(s_.clients);
    room_size_.assign(s_.rooms, 0);
    for (size_t i = 0; i < s_.clients; ++i) {
      auto& c = clients_[i];
      c.target = i % targets_.size();
      c.room = (i / targets_.size()) % s_.rooms;
      c.nick = s_.nick_prefix + std::to_string(i);
      c.joined_line = "* " + c.nick + " joined #r" + std::to_string(c.room);
      c.last_seq.assign(s_.senders, 0);
      ++room_size_[c.room];
    }
    // One prober per (room, endpoint): the first client there.
    std::vector<std::vector<bool>> taken(
      s_.rooms, std::vector<bool>(targets_.size(), false));
    probes_expected_.assign(s_.rooms, 0);
    for (size_t i = 0; i < s_.clients; ++i) {
      auto& c = clients_[i];
      if (!taken[c.room][c.target]) {
        taken[c.room][c.target] = true;
        probers_.push_back(i);
        ++probes_expected_[c.room];
      }
    }
    seq_.assign(s_.senders, 0);
  }

  ~load() {
    for (auto& c : clients_)
      if (c.fd >= 0)
        ::close(c.fd);
    if (ep_ >= 0)
      ::close(ep_);
  }

  load_result run() {
    auto start = clock::now();
    auto join_deadline = start
                         + std::chrono::duration_cast<clock::duration>(
                           std::chrono::duration<double>(s_.join_timeout));
    if (!connect_and_join(join_deadline) || !probe(join_deadline))
      return std::move(r_);
    r_.join_seconds = seconds_since(start);
    measure();
    return std::move(r_);
  }

private:
  static double seconds_since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  }

  bool fail(std::string why) {
    if (r_.error.empty())
      r_.error = std::move(why);
    return false;
  }

  // -- phases -----------------------------------------------------------------

  bool connect_and_join(clock::time_point deadline) {
    size_t next = 0;
    while (joined_count_ < s_.clients) {
      while (next < s_.clients && connecting_ < s_.connect_batch)
        if (!start_connect(next++))
          return false;
      if (!poll(10))
        return false;
      if (clock::now() > deadline)
        return fail("joining: " + std::to_string(joined_count_) + " of "
                    + std::to_string(s_.clients) + " clients joined in time");
    }
    return true;
  }

  // Every prober says "p K"; done when every client heard round K from
  // every prober of its room (so each endpoint delivers to every member);
  // else a new round after 3 s, 6 s, 12 s, ... (a busy server may still be
  // delivering the joins).
  bool probe(clock::time_point deadline) {
    auto wait = std::chrono::seconds{3};
    for (uint32_t round = 1;; ++round, wait *= 2) {
      r_.probe_rounds = static_cast<int>(round);
      probe_round_ = round;
      for (auto i : probers_)
        enqueue(i, "p " + std::to_string(round) + "\n");
      auto round_end = clock::now() + wait;
      while (clock::now() < round_end) {
        if (!poll(10))
          return false;
        bool all = std::all_of(clients_.begin(), clients_.end(),
                               [&](const client& c) {
                                 return c.probe_round == round
                                        && c.probes_heard
                                             >= probes_expected_[c.room];
                               });
        if (all)
          return true;
        if (clock::now() > deadline)
          return fail("probing: not every client hears every endpoint");
      }
    }
  }

  void measure() {
    if (s_.mark)
      s_.mark(true);
    measuring_ = true;
    uint64_t t0 = now_ns();
    end_ns_ = t0 + static_cast<uint64_t>(s_.duration * 1e9);
    size_t next_sender = 0;
    r_.latency_us.reserve(1 << 20);
    while (now_ns() < end_ns_) {
      while (r_.sent - completed_total_ < s_.window) {
        send_message(next_sender);
        next_sender = (next_sender + 1) % s_.senders;
      }
      if (!poll(1))
        return;
    }
    r_.seconds = static_cast<double>(now_ns() - t0) / 1e9;
    if (s_.mark)
      s_.mark(false);
    r_.completed = completed_total_;
    auto drain_end = clock::now()
                     + std::chrono::duration_cast<clock::duration>(
                       std::chrono::duration<double>(s_.drain_timeout));
    while (completed_total_ < r_.sent && clock::now() < drain_end)
      if (!poll(10))
        return;
    r_.ok = true;
  }

  // -- sending ----------------------------------------------------------------

  void send_message(size_t sender) {
    auto& c = clients_[sender];
    uint64_t id = remaining_.size();
    remaining_.push_back(static_cast<uint32_t>(room_size_[c.room]));
    r_.expected += room_size_[c.room];
    ++r_.sent;
    char head[96];
    int n = std::snprintf(head, sizeof head, "m %zu %llu %llu %llu ", sender,
                          static_cast<unsigned long long>(++seq_[sender]),
                          static_cast<unsigned long long>(id),
                          static_cast<unsigned long long>(now_ns()));
    std::string line{head, static_cast<size_t>(n)};
    if (line.size() < s_.size)
      line.append(s_.size - line.size(), 'x');
    line.push_back('\n');
    enqueue(sender, line);
  }

  void enqueue(size_t i, const std::string& bytes) {
    auto& c = clients_[i];
    c.out.append(bytes);
    if (!c.want_out)
      flush(i);
  }

  bool flush(size_t i) {
    auto& c = clients_[i];
    while (c.out_off < c.out.size()) {
      auto w = ::send(c.fd, c.out.data() + c.out_off,
                      c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_off += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && errno == EAGAIN) {
        if (!c.want_out) {
          c.want_out = true;
          ctl(EPOLL_CTL_MOD, i, EPOLLIN | EPOLLOUT);
        }
        return true;
      } else {
        return fail(c.nick + ": send: " + std::strerror(errno));
      }
    }
    c.out.clear();
    c.out_off = 0;
    if (c.want_out) {
      c.want_out = false;
      ctl(EPOLL_CTL_MOD, i, EPOLLIN);
    }
    return true;
  }

  // -- connections ------------------------------------------------------------

  void ctl(int op, size_t i, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = i;
    epoll_ctl(ep_, op, clients_[i].fd, &ev);
  }

  bool start_connect(size_t i) {
    auto& c = clients_[i];
    auto& t = targets_[c.target];
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(t.port);
    if (inet_pton(AF_INET, t.host.c_str(), &addr.sin_addr) != 1)
      return fail("bad IPv4 address " + t.host);
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0)
      return fail(std::string{"socket: "} + std::strerror(errno));
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0
        && errno != EINPROGRESS)
      return fail(c.nick + ": connect: " + std::strerror(errno));
    c.connecting = true;
    ++connecting_;
    ctl(EPOLL_CTL_ADD, i, EPOLLOUT);
    return true;
  }

  bool on_connected(size_t i) {
    auto& c = clients_[i];
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return fail(c.nick + ": connect to " + targets_[c.target].host + ":"
                  + std::to_string(targets_[c.target].port) + ": "
                  + std::strerror(err));
    c.connecting = false;
    --connecting_;
    ctl(EPOLL_CTL_MOD, i, EPOLLIN);
    enqueue(i, "/nick " + c.nick + "\n/join #r" + std::to_string(c.room)
                 + "\n");
    return true;
  }

  // One round of epoll; false once something failed.
  bool poll(int timeout_ms) {
    epoll_event evs[512];
    int n = epoll_wait(ep_, evs, 512, timeout_ms);
    if (n < 0 && errno != EINTR)
      return fail(std::string{"epoll_wait: "} + std::strerror(errno));
    for (int k = 0; k < n; ++k) {
      auto i = static_cast<size_t>(evs[k].data.u64);
      auto& c = clients_[i];
      if (c.connecting) {
        if (!on_connected(i))
          return false;
        continue;
      }
      if ((evs[k].events & EPOLLOUT) && !flush(i))
        return false;
      if ((evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !read(i))
        return false;
    }
    return r_.error.empty();
  }

  bool read(size_t i) {
    auto& c = clients_[i];
    char buf[65536];
    for (;;) {
      auto n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n == 0)
        return fail(c.nick + ": the server closed the connection"
                    + (last_error_.empty() ? "" : " (" + last_error_ + ")"));
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
          return true;
        return fail(c.nick + ": recv: " + std::strerror(errno));
      }
      c.in.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (;;) {
        auto nl = c.in.find('\n', start);
        if (nl == std::string::npos)
          break;
        on_line(c, std::string_view{c.in.data() + start, nl - start});
        start = nl + 1;
      }
      c.in.erase(0, start);
      if (static_cast<size_t>(n) < sizeof buf)
        return true;
    }
  }

  void on_line(client& c, std::string_view line) {
    if (line.empty())
      return;
    if (line[0] == '<') {
      auto gt = line.find("> ");
      if (gt == std::string_view::npos)
        return;
      auto text = line.substr(gt + 2);
      if (text.size() > 2 && text[0] == 'm' && text[1] == ' ')
        on_delivery(c, text.substr(2));
      else if (text.size() > 2 && text[0] == 'p' && text[1] == ' ')
        on_probe(c, text.substr(2));
    } else if (line[0] == '*') {
      if (!c.joined && line == c.joined_line) {
        c.joined = true;
        ++joined_count_;
      }
    } else if (line[0] == '!') {
      ++r_.error_lines;
      last_error_ = std::string{line};
      if (r_.error_lines <= 5)
        std::fprintf(stderr, "chat-bench: %s got: %.*s\n", c.nick.c_str(),
                     static_cast<int>(line.size()), line.data());
    }
  }

  void on_probe(client& c, std::string_view text) {
    uint64_t round = 0;
    if (!take_number(text, round) || round != probe_round_)
      return;
    if (c.probe_round != round) {
      c.probe_round = static_cast<uint32_t>(round);
      c.probes_heard = 0;
    }
    ++c.probes_heard;
  }

  void on_delivery(client& c, std::string_view text) {
    uint64_t sender = 0, seq = 0, id = 0, sent_ns = 0;
    if (!take_number(text, sender) || !take_number(text, seq)
        || !take_number(text, id) || !take_number(text, sent_ns)
        || sender >= s_.senders || id >= remaining_.size())
      return;
    auto now = now_ns();
    if (measuring_ && now <= end_ns_) {
      ++r_.deliveries;
      r_.latency_us.push_back(
        static_cast<uint32_t>(std::min<uint64_t>((now - sent_ns) / 1000,
                                                 UINT32_MAX)));
    }
    if (seq != c.last_seq[sender] + 1)
      ++r_.order_errors;
    c.last_seq[sender] = std::max(c.last_seq[sender], seq);
    ++r_.delivered;
    if (remaining_[id] > 0 && --remaining_[id] == 0)
      ++completed_total_;
  }

  const std::vector<endpoint>& targets_;
  load_settings s_;
  int ep_ = -1;
  std::vector<client> clients_;
  std::vector<size_t> room_size_;
  std::vector<size_t> probers_;
  std::vector<size_t> probes_expected_;
  std::vector<uint64_t> seq_;       // per sender: last sequence number sent
  std::vector<uint32_t> remaining_; // per message: deliveries still due
  uint64_t completed_total_ = 0;
  size_t joined_count_ = 0;
  size_t connecting_ = 0; // connects in progress
  uint32_t probe_round_ = 0;
  bool measuring_ = false;
  uint64_t end_ns_ = 0;
  std::string last_error_;
  load_result r_;
};

} // namespace

load_result run_load(const std::vector<endpoint>& targets,
                     const load_settings& s) {
  load l{targets, s};
  return l.run();
}

} // namespace fanout
