// io_uring backend, part 2: files as messages (openat, read/write at an
// offset, fsync, statx, close, cancel).

#include "actio/drivers/uring/uring_driver.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <utility>
#include <vector>

#include "actio/drivers/detail/dup_file.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

namespace {

caf::error closed_file(const char* what, file_id id) {
  return make_actio_error(errc::closed, std::string{what} + ": file "
                                          + std::to_string(id)
                                          + " is not open (closed or never opened)");
}

} // namespace

void uring_driver::open_file(std::string path, int flags, unsigned mode,
                             caf::response_promise rp) {
  auto* o = new_op(op_kind::file_open);
  o->ext().path = std::move(path);
  o->rp = std::move(rp);
  auto* e = sqe();
  io_uring_prep_openat(e, AT_FDCWD, o->ext().path.c_str(), flags | O_CLOEXEC, mode);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::read_at(file_id file, uint64_t offset, size_t len, op_id id,
                           caf::response_promise rp) {
  auto* f = files_.find_open(file);
  if (f == nullptr) {
    rp.deliver(closed_file("read_at", file));
    return;
  }
  if (len == 0) {
    rp.deliver(byte_buffer{});
    return;
  }
  auto* o = new_op(op_kind::file_read);
  o->target = file;
  o->id = id;
  o->offset = offset;
  o->buf.resize(len);
  o->rp = std::move(rp);
  ++f->ops;
  if (id != 0)
    file_ops_[id] = o;
  submit_file_rw(o);
}

/// One read_batch: the buffers so far, how many reads are still out, the
/// first error. Freed by the last read's completion.
struct uring_driver::read_batch_state {
  std::vector<byte_buffer> bufs;
  size_t left = 0;
  caf::error err;
  caf::response_promise rp;
};

void uring_driver::read_batch(file_id file, std::vector<uint64_t> offsets,
                              size_t len, caf::response_promise rp) {
  auto* f = files_.find_open(file);
  if (f == nullptr) {
    rp.deliver(closed_file("read_batch", file));
    return;
  }
  if (offsets.empty() || len == 0) {
    rp.deliver(std::vector<byte_buffer>(offsets.size()));
    return;
  }
  // One SQE per read, all in this turn's submission.
  auto* b = new read_batch_state;
  b->bufs.resize(offsets.size());
  b->left = offsets.size();
  b->rp = std::move(rp);
  for (size_t i = 0; i < offsets.size(); ++i) {
    auto* o = new_op(op_kind::file_read);
    o->target = file;
    o->offset = offsets[i];
    o->buf.resize(len);
    o->batch = b;
    o->batch_index = i;
    ++f->ops;
    submit_file_rw(o);
  }
}

/// A read of a batch is done: its buffer goes into the batch; the last one
/// answers.
void uring_driver::on_batch_read(op* o, int res, const std::string& path) {
  auto* b = std::exchange(o->batch, nullptr);
  if (res < 0) {
    if (!b->err)
      b->err = res == -ECANCELED
                 ? make_actio_error(errc::cancelled, "read_batch " + path
                                                       + ": cancelled")
                 : make_path_error("read_batch", path, -res);
  } else {
    o->buf.resize(o->done);
    b->bufs[o->batch_index] = std::move(o->buf);
  }
  if (--b->left > 0)
    return;
  if (b->err)
    b->rp.deliver(std::move(b->err));
  else
    b->rp.deliver(std::move(b->bufs));
  delete b;
}

void uring_driver::write_at(file_id file, uint64_t offset, byte_buffer buf,
                            op_id id, caf::response_promise rp) {
  auto* f = files_.find_open(file);
  if (f == nullptr) {
    rp.deliver(closed_file("write_at", file));
    return;
  }
  if (buf.empty()) {
    rp.deliver(uint64_t{0});
    return;
  }
  auto* o = new_op(op_kind::file_write);
  o->target = file;
  o->id = id;
  o->offset = offset;
  o->buf = std::move(buf);
  o->rp = std::move(rp);
  ++f->ops;
  if (id != 0)
    file_ops_[id] = o;
  submit_file_rw(o);
}

/// (Re)submits the rest of a positioned transfer.
void uring_driver::submit_file_rw(op* o) {
  auto& f = files_[static_cast<uint32_t>(o->target)];
  auto* e = sqe();
  auto left = static_cast<unsigned>(
    std::min<size_t>(o->buf.size() - o->done, 1u << 30));
  if (o->kind == op_kind::file_read && o->offset == stream_offset)
    io_uring_prep_read(e, f.fd, o->buf.data(), left, stream_offset);
  else if (o->kind == op_kind::file_read)
    io_uring_prep_read(e, f.fd, o->buf.data() + o->done, left,
                       o->offset + o->done);
  else
    io_uring_prep_write(e, f.fd, o->buf.data() + o->done, left,
                        o->offset + o->done);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::sync_file(file_id file, bool datasync,
                             caf::response_promise rp) {
  auto* f = files_.find_open(file);
  if (f == nullptr) {
    rp.deliver(closed_file("fsync", file));
    return;
  }
  auto* o = new_op(op_kind::file_sync);
  o->target = file;
  o->rp = std::move(rp);
  ++f->ops;
  auto* e = sqe();
  io_uring_prep_fsync(e, f->fd, datasync ? IORING_FSYNC_DATASYNC : 0);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::stat_file(file_id file, caf::response_promise rp) {
  auto* f = files_.find_open(file);
  if (f == nullptr) {
    rp.deliver(closed_file("stat", file));
    return;
  }
  auto* o = new_op(op_kind::file_stat);
  o->target = file;
  o->rp = std::move(rp);
  ++f->ops;
  auto* e = sqe();
  io_uring_prep_statx(e, f->fd, "", AT_EMPTY_PATH, STATX_SIZE, &o->ext().stx);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::close_file(file_id file, caf::response_promise rp) {
  auto* f = files_.find_open(file);
  if (f == nullptr) {
    rp.deliver(closed_file("close", file));
    return;
  }
  f->closing = true;
  f->close_rp = std::move(rp);
  maybe_close_file(static_cast<uint32_t>(file));
}

bool uring_driver::cancel_file_op(op_id id) {
  auto i = file_ops_.find(id);
  if (i == file_ops_.end() || i->second->cancelled)
    return false;
  i->second->cancelled = true;
  auto* e = sqe();
  io_uring_prep_cancel(e, i->second, 0);
  io_uring_sqe_set_data64(e, 0);
  return true;
}

caf::expected<dup_file_result> uring_driver::dup_file(file_id file,
                                                     const char* what) {
  auto* f = files_.find_open(file);
  if (f == nullptr)
    return closed_file(what, file);
  return detail::dup_descriptor(f->fd, what, f->path);
}

/// Closes once no operation on the file is in flight.
void uring_driver::maybe_close_file(uint32_t index) {
  auto& f = files_[index];
  if (!f.closing || f.ops > 0 || f.fd < 0)
    return;
  auto* o = new_op(op_kind::file_close);
  o->target = files_.id_of(index);
  o->fd = f.fd;
  f.ops = 1;
  f.close_sent = true;
  auto* e = sqe();
  io_uring_prep_close(e, f.fd);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::on_file(op* o, int res) {
  if (o->kind == op_kind::file_open) {
    if (res < 0) {
      o->rp.deliver(make_path_error("open", o->ext().path, -res));
    } else {
      auto index = files_.allocate();
      auto& f = files_[index];
      f.fd = res;
      f.path = std::move(o->ext().path);
      o->rp.deliver(files_.id_of(index));
    }
    op_done(o);
    return;
  }
  auto index = static_cast<uint32_t>(o->target);
  auto& f = files_[index];
  if (o->kind == op_kind::file_close) {
    if (f.close_rp) {
      if (res < 0)
        f.close_rp->deliver(make_path_error("close", f.path, -res));
      else
        f.close_rp->deliver(caf::unit);
    }
    files_.release(index);
    op_done(o);
    return;
  }
  if ((o->kind == op_kind::file_read || o->kind == op_kind::file_write)
      && res > 0) {
    o->done += static_cast<size_t>(res);
    // Short transfer: resubmit the rest (a read stops at EOF, res == 0; a
    // stream read returns what was there).
    if (o->done < o->buf.size() && !o->cancelled
        && o->offset != stream_offset) {
      submit_file_rw(o);
      return;
    }
  }
  --f.ops;
  if (o->id != 0)
    file_ops_.erase(o->id);
  if (o->batch != nullptr) {
    on_batch_read(o, res, f.path);
    op_done(o);
    maybe_close_file(index);
    return;
  }
  const char* what = o->kind == op_kind::file_read    ? "read_at"
                     : o->kind == op_kind::file_write ? "write_at"
                     : o->kind == op_kind::file_sync  ? "fsync"
                                                      : "stat";
  if (res == -ECANCELED || (o->cancelled && res < 0)) {
    o->rp.deliver(make_actio_error(errc::cancelled,
                                   std::string{what} + " " + f.path
                                     + ": cancelled"));
  } else if (res < 0) {
    o->rp.deliver(make_path_error(what, f.path, -res));
  } else if (o->kind == op_kind::file_read) {
    o->buf.resize(o->done);
    o->rp.deliver(std::move(o->buf));
  } else if (o->kind == op_kind::file_write) {
    o->rp.deliver(static_cast<uint64_t>(o->done));
  } else if (o->kind == op_kind::file_sync) {
    o->rp.deliver(caf::unit);
  } else {
    o->rp.deliver(static_cast<uint64_t>(o->ext().stx.stx_size));
  }
  op_done(o);
  maybe_close_file(index);
}

} // namespace actio
