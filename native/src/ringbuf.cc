#include "ringbuf.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "errors.h"

namespace wl {
namespace {
// Batches delivered per wake-up at most (the rest waits for the next turn of the loop).
constexpr int kBatchesPerWake = 16;
}  // namespace

Napi::Function RingBuffer::Init(Napi::Env env) {
  return DefineClass(
      env, "RingBuffer",
      {InstanceMethod("consume", &RingBuffer::Consume), InstanceMethod("memory", &RingBuffer::Memory),
       InstanceMethod("close", &RingBuffer::Close), InstanceMethod("writeRanges", &RingBuffer::WriteRanges)});
}

// new RingBuffer(mapFd, onBatch(start, end) -> consumed, pollMs?)
// onBatch reads records in place, in memory() (the ring's data pages,
// mapped twice in a row and read-only) from byte `start` up to `end` or to
// the first record still being written (its length word's bit 31), and
// returns the bytes it consumed; the kernel may reuse that memory once it
// returns, so it must not keep views of it. pollMs > 0 also drains every
// pollMs (for records submitted without wake-up). Layout per record, the
// kernel's: u32 length (bit 31: still being written; bit 30: discarded, to
// be skipped), u32 (the kernel's), bytes, padding to 8.
RingBuffer::RingBuffer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingBuffer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    ThrowUsage(env, "new RingBuffer(mapFd: number, onBatch: (start, end) => consumed, pollMs?)");
    return;
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  bpf_map_info mi = {};
  uint32_t mi_len = sizeof(mi);
  int err = bpf_obj_get_info_by_fd(fd, &mi, &mi_len);
  if (err) {
    ThrowErrno(env, "bpf_obj_get_info_by_fd (ring buffer)", errno ? errno : -err);
    return;
  }
  if (mi.type != BPF_MAP_TYPE_RINGBUF || mi.max_entries == 0 ||
      (mi.max_entries & (mi.max_entries - 1)) != 0) {
    ThrowUsage(env, "RingBuffer: the map is not a BPF ring buffer");
    return;
  }
  page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_ = mi.max_entries;
  void *c = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (c == MAP_FAILED) {
    ThrowErrno(env, "mmap (ring buffer consumer page)", errno);
    return;
  }
  consumer_ = static_cast<uint64_t *>(c);
  // Populated now: a page touched first mid-capture costs a fault (dear on some hypervisors).
  void *p =
      mmap(nullptr, page_ + 2 * size_, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, static_cast<off_t>(page_));
  if (p == MAP_FAILED) {
    int e = errno;
    Stop();
    ThrowErrno(env, "mmap (ring buffer data)", e);
    return;
  }
  producer_page_ = static_cast<uint8_t *>(p);
  data_ = producer_page_ + page_;
  fd_ = fd;
  // JS reads the records where the kernel wrote them: no copy. close() detaches this buffer before
  // unmapping, so reading a view kept by mistake throws instead of faulting.
  napi_value ab;
  if (napi_create_external_arraybuffer(env, const_cast<uint8_t *>(data_), 2 * size_, nullptr, nullptr, &ab) !=
      napi_ok) {
    Stop();
    Napi::Error::New(env, "ring buffer: cannot expose its memory to JS").ThrowAsJavaScriptException();
    return;
  }
  memory_ = Napi::Persistent(Napi::ArrayBuffer(env, ab));
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  poll_->data = this;
  // The map's fd polls readable while committed data waits (the kernel wakes it).
  err = uv_poll_init(loop, poll_, fd_);
  if (err) {
    delete poll_;  // never initialised: libuv does not know it
    poll_ = nullptr;
  } else {
    err = uv_poll_start(poll_, UV_READABLE, OnPoll);
  }
  if (err) {
    Stop();
    Napi::Error::New(env, std::string("uv_poll on ring buffer: ") + uv_strerror(err))
        .ThrowAsJavaScriptException();
    return;
  }
  uint32_t poll_ms = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
  if (poll_ms > 0) {
    timer_ = new uv_timer_t;
    timer_->data = this;
    uv_timer_init(loop, timer_);
    uv_timer_start(timer_, OnTimer, poll_ms, poll_ms);
    uv_unref(reinterpret_cast<uv_handle_t *>(timer_));  // the poll handle keeps the loop alive
  }
  Ref();  // stay alive while polling, whatever JS holds
}

RingBuffer::~RingBuffer() { Stop(); }

size_t RingBuffer::Drain() {
  if (!data_) return 0;
  const uint64_t *producer = reinterpret_cast<const uint64_t *>(producer_page_);
  uint64_t cons = __atomic_load_n(consumer_, __ATOMIC_ACQUIRE);
  uint64_t prod = __atomic_load_n(producer, __ATOMIC_ACQUIRE);
  // What the producer has reserved (JS stops at a record still being written: its busy bit).
  run_start_ = cons;
  run_end_ = prod - cons > size_ ? cons + size_ : prod;
  return run_end_ - run_start_;
}

// Hands the run found by Drain() to JS, which reads the records in one walk and returns how many
// bytes it consumed (up to a record still being written); that memory goes back to the kernel.
size_t RingBuffer::Deliver() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  // The data pages are mapped twice in a row: a run that wraps is still contiguous here.
  double start = static_cast<double>(run_start_ & (size_ - 1));
  double end = start + static_cast<double>(run_end_ - run_start_);
  Napi::Value r =
      callback_.MakeCallback(env.Global(), {Napi::Number::New(env, start), Napi::Number::New(env, end)});
  size_t used = 0;
  if (env.IsExceptionPending()) {
    // No JS frame above a libuv callback: report it as uncaught, as Node would.
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  } else if (r.IsNumber()) {
    double n = r.As<Napi::Number>().DoubleValue();
    if (n > 0 && n <= static_cast<double>(run_end_ - run_start_)) used = static_cast<size_t>(n) & ~size_t(7);
  }
  if (consumer_ && used) __atomic_store_n(consumer_, run_start_ + used, __ATOMIC_RELEASE);
  run_start_ = run_end_ = 0;
  return used;
}

void RingBuffer::DrainAndDeliver() {
  for (int i = 0; i < kBatchesPerWake && data_; i++) {
    if (Drain() == 0) return;
    if (Deliver() == 0) return;  // the first record is still being written: the next wake-up
  }
}

void RingBuffer::OnPoll(uv_poll_t *handle, int status, int events) {
  auto *self = static_cast<RingBuffer *>(handle->data);
  if (self) self->DrainAndDeliver();
}

void RingBuffer::OnTimer(uv_timer_t *handle) {
  auto *self = static_cast<RingBuffer *>(handle->data);
  if (self) self->DrainAndDeliver();
}

// consume() -> bytes consumed: drains synchronously through the callback
// (the final records at shutdown).
Napi::Value RingBuffer::Consume(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  size_t used = 0;
  if (Drain() > 0) {
    double start = static_cast<double>(run_start_ & (size_ - 1));
    Napi::Value r = callback_.Value().As<Napi::Function>().Call(
        env.Global(), {Napi::Number::New(env, start),
                       Napi::Number::New(env, start + static_cast<double>(run_end_ - run_start_))});
    if (!env.IsExceptionPending() && r.IsNumber()) {
      double n = r.As<Napi::Number>().DoubleValue();
      if (n > 0 && n <= static_cast<double>(run_end_ - run_start_))
        used = static_cast<size_t>(n) & ~size_t(7);
    }
    if (consumer_ && used) __atomic_store_n(consumer_, run_start_ + used, __ATOMIC_RELEASE);
    run_start_ = run_end_ = 0;
  }
  return Napi::Number::New(env, static_cast<double>(used));
}

// memory() -> the ArrayBuffer over the ring's data pages (twice its size), read-only.
Napi::Value RingBuffer::Memory(const Napi::CallbackInfo &info) {
  if (memory_.IsEmpty()) return info.Env().Undefined();
  return memory_.Value();
}

void RingBuffer::Stop() {
  if (timer_) {
    uv_timer_stop(timer_);
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t *>(timer_),
             [](uv_handle_t *h) { delete reinterpret_cast<uv_timer_t *>(h); });
    timer_ = nullptr;
  }
  if (poll_) {
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t *>(poll_),
             [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    poll_ = nullptr;
  }
  if (!memory_.IsEmpty()) {
    Napi::ArrayBuffer ab = memory_.Value();
    if (!ab.IsDetached()) ab.Detach();
    memory_.Reset();
  }
  if (producer_page_) munmap(producer_page_, page_ + 2 * size_);
  if (consumer_) munmap(consumer_, page_);
  producer_page_ = nullptr;
  data_ = nullptr;
  consumer_ = nullptr;
  fd_ = -1;
}

// writeRanges(fd, ranges: Uint32Array, count) -> bytes written, or -errno:
// writes `count` byte ranges of memory() (offset, length pairs) to fd in
// order with writev, from inside a batch handler (the memory is the
// kernel's again once it returns). For records the kernel formats as they
// are to be written (capture's pcapng blocks): no copy through JS. A write
// that stops short is resumed; an error returns at once (what was written
// before it stays written).
Napi::Value RingBuffer::WriteRanges(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber()) {
    ThrowUsage(env, "writeRanges(fd: number, ranges: Uint32Array, count: number)");
    return env.Undefined();
  }
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint32_array) {
    ThrowUsage(env, "writeRanges: ranges must be a Uint32Array");
    return env.Undefined();
  }
  Napi::Uint32Array ranges = ta.As<Napi::Uint32Array>();
  int fd = info[0].As<Napi::Number>().Int32Value();
  size_t count = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
  if (!data_) return Napi::Number::New(env, -EBADF);
  if (count > ranges.ElementLength() / 2) count = ranges.ElementLength() / 2;
  const uint32_t *r = ranges.Data();
  iovec iov[256];
  double total = 0;
  size_t i = 0;
  while (i < count) {
    int n = 0;
    for (; n < 256 && i < count; i++) {
      uint64_t off = r[2 * i], len = r[2 * i + 1];
      if (off + len > 2 * size_) return Napi::Number::New(env, -EINVAL);
      if (len == 0) continue;
      iov[n].iov_base = const_cast<uint8_t *>(data_ + off);
      iov[n].iov_len = len;
      n++;
    }
    iovec *v = iov;
    while (n > 0) {
      ssize_t w = writev(fd, v, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Napi::Number::New(env, -errno);
      }
      if (w == 0) return Napi::Number::New(env, -EIO);
      total += static_cast<double>(w);
      size_t left = static_cast<size_t>(w);
      while (n > 0 && left >= v->iov_len) {
        left -= v->iov_len;
        v++;
        n--;
      }
      if (n > 0 && left > 0) {
        v->iov_base = static_cast<uint8_t *>(v->iov_base) + left;
        v->iov_len -= left;
      }
    }
  }
  return Napi::Number::New(env, total);
}

Napi::Value RingBuffer::Close(const Napi::CallbackInfo &info) {
  bool was_open = data_ != nullptr;
  Stop();
  if (was_open) Unref();
  return info.Env().Undefined();
}

}  // namespace wl
