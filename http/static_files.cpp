#include "actio/http/static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/http/date.hpp"
#include "actio/http/detail/file_body.hpp"
#include "actio/http/message.hpp"
#include "actio/io/file_service.hpp"

namespace actio::http {

namespace {

/// Percent-decodes `in`; nullopt on a bad escape or a NUL.
std::optional<std::string> decode_path(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1]))
          || !std::isxdigit(static_cast<unsigned char>(in[i + 2])))
        return std::nullopt;
      c = static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
    if (c == '\0')
      return std::nullopt;
    out += c;
  }
  return out;
}

/// The path below the root ("a/b.txt"); "" for the root; nullopt if a
/// segment is "..".
std::optional<std::string> relative(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos)
      j = path.size();
    auto seg = path.substr(i, j - i);
    i = j + 1;
    if (seg.empty() || seg == ".")
      continue;
    if (seg == "..")
      return std::nullopt;
    if (!out.empty())
      out += '/';
    out += seg;
  }
  return out;
}

/// openat2(2) below `root`, read-only; -errno on failure.
int open_beneath(int root, const std::string& rel) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  auto fd = syscall(SYS_openat2, root, rel.empty() ? "." : rel.c_str(), &how,
                    sizeof(how));
  return fd < 0 ? -errno : static_cast<int>(fd);
}

response status_page(uint16_t status) {
  return response::text(status, std::string{reason_phrase(status)} + "\n");
}

/// One range `bytes=a-b` of a file of `size` bytes: [first, last]; nullopt
/// when the header is not a single well-formed range (serve it all);
/// first > last when it cannot be satisfied.
std::optional<std::pair<uint64_t, uint64_t>> parse_range(const std::string& v,
                                                         uint64_t size) {
  if (v.rfind("bytes=", 0) != 0 || v.find(',') != std::string::npos)
    return std::nullopt;
  auto spec = v.substr(6);
  auto dash = spec.find('-');
  if (dash == std::string::npos)
    return std::nullopt;
  auto a = spec.substr(0, dash);
  auto b = spec.substr(dash + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() < 19
           && std::all_of(s.begin(), s.end(),
                          [](char c) { return c >= '0' && c <= '9'; });
  };
  if (a.empty()) { // the last n bytes
    if (!digits(b))
      return std::nullopt;
    uint64_t n = std::stoull(b);
    if (n == 0 || size == 0)
      return std::make_pair(uint64_t{1}, uint64_t{0});
    n = std::min(n, size);
    return std::make_pair(size - n, size - 1);
  }
  if (!digits(a) || (!b.empty() && !digits(b)))
    return std::nullopt;
  uint64_t first = std::stoull(a);
  uint64_t last = b.empty() ? size - 1 : uint64_t{std::stoull(b)};
  if (!b.empty() && last < first)
    return std::nullopt; // syntactically invalid: ignored
  if (first >= size)
    return std::make_pair(uint64_t{1}, uint64_t{0});
  return std::make_pair(first, std::min(last, size - 1));
}

struct static_state {
  caf::actor files;
  std::shared_ptr<int> root; // closed with the last copy
};

caf::behavior static_files(caf::event_based_actor* self, static_state st) {
  return {
    [self, st](request& req) -> caf::result<response> {
      if (req.method != "GET" && req.method != "HEAD") {
        auto r = status_page(405);
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
      }
      auto decoded = decode_path(req.path);
      if (!decoded)
        return status_page(400);
      auto rel = relative(*decoded);
      if (!rel)
        return status_page(403);
      auto fd = open_beneath(*st.root, *rel);
      struct stat sb {};
      if (fd >= 0 && ::fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        ::close(fd);
        *rel = rel->empty() ? "index.html" : *rel + "/index.html";
        fd = open_beneath(*st.root, *rel);
      }
      if (fd < 0) {
        auto err = -fd;
        if (err == ENOENT || err == ENOTDIR)
          return status_page(404);
        if (err == EXDEV || err == EACCES || err == ELOOP || err == EPERM)
          return status_page(403);
        return status_page(500);
      }
      if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ::close(fd);
        return status_page(403);
      }
      auto size = static_cast<uint64_t>(sb.st_size);
      response r;
      r.headers.emplace_back("Last-Modified", format_date(sb.st_mtime));
      if (auto* ims = req.header("if-modified-since")) {
        auto t = parse_date(*ims);
        if (t && sb.st_mtime <= *t) {
          ::close(fd);
          r.status = 304;
          return r;
        }
      }
      r.headers.emplace_back("Content-Type", content_type_for(*rel));
      r.headers.emplace_back("Accept-Ranges", "bytes");
      uint64_t first = 0;
      uint64_t length = size;
      if (auto* range = req.header("range")) {
        if (auto rg = parse_range(*range, size)) {
          if (rg->first > rg->second) {
            ::close(fd);
            auto e = status_page(416);
            e.headers.emplace_back("Content-Range",
                                   "bytes */" + std::to_string(size));
            return e;
          }
          r.status = 206;
          first = rg->first;
          length = rg->second - rg->first + 1;
          r.headers.emplace_back("Content-Range",
                                 "bytes " + std::to_string(rg->first) + "-"
                                   + std::to_string(rg->second) + "/"
                                   + std::to_string(size));
        }
      }
      r.body_length = length;
      if (req.method == "HEAD" || length == 0) {
        ::close(fd);
        return r;
      }
      // The file service opens the same inode through /proc: no second
      // path resolution, so nothing can be swapped in between.
      auto rp = self->make_response_promise<response>();
      self
        ->request(st.files, caf::infinite, io::file_open_atom::value,
                  "/proc/self/fd/" + std::to_string(fd), int{O_RDONLY},
                  uint32_t{0})
        .then(
          [self, st, fd, rp, r, first, length](uint64_t file) mutable {
            ::close(fd);
            r.body_source = detail::spawn_file_body(self->system(), st.files,
                                                    file, first, length);
            rp.deliver(std::move(r));
          },
          [fd, rp](caf::error&) mutable {
            ::close(fd);
            rp.deliver(status_page(500));
          });
      return rp;
    },
  };
}

} // namespace

std::string content_type_for(const std::string& name) {
  static const std::pair<const char*, const char*> table[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".xml", "application/xml"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".pdf", "application/pdf"},
    {".wasm", "application/wasm"},
  };
  auto slash = name.rfind('/');
  auto dot = name.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    std::string ext = name.substr(dot);
    for (auto& c : ext)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& [e, type] : table)
      if (ext == e)
        return type;
  }
  return "application/octet-stream";
}

caf::expected<caf::actor> spawn_static_files(caf::actor_system& sys,
                                             caf::actor files,
                                             const std::string& root) {
  auto fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_path_error("open", root, errno);
  auto shared = std::shared_ptr<int>(new int{fd}, [](int* p) {
    ::close(*p);
    delete p;
  });
  return sys.spawn(static_files, static_state{std::move(files), shared});
}

} // namespace actio::http
