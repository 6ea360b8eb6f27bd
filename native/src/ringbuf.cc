#include "ringbuf.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace wl {
namespace {
// Room kept free in the batch: no record the programs emit is larger.
constexpr size_t kMaxRecord = 64 * 1024;
// Batches delivered per wake-up at most (the rest waits for the next turn of the loop).
constexpr int kBatchesPerWake = 16;
// The kernel's record header (kernel/bpf/ringbuf.c): u32 length with these bits, u32 page offset.
constexpr uint32_t kBusyBit = 1U << 31;
constexpr uint32_t kDiscardBit = 1U << 30;
constexpr size_t kHdr = 8;
}  // namespace

Napi::Function RingBuffer::Init(Napi::Env env) {
  return DefineClass(
      env, "RingBuffer",
      {InstanceMethod("consume", &RingBuffer::Consume), InstanceMethod("close", &RingBuffer::Close)});
}

// new RingBuffer(mapFd, onBatch(bytes), batch: Buffer, pollMs?)
// Records are copied into `batch` (at least 128 KiB), which is reused: the
// callback must read it before returning. pollMs > 0 also drains every
// pollMs (for records submitted without wake-up).
// Batch layout per record, the ring's own: u32 length (bit 30 set: a
// discarded record, to be skipped), u32 (the kernel's), bytes, padding to 8.
RingBuffer::RingBuffer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingBuffer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsBuffer() ||
      info[2].As<Napi::Buffer<uint8_t>>().Length() < 2 * kMaxRecord) {
    ThrowUsage(env,
               "new RingBuffer(mapFd: number, onBatch: (bytes) => void, batch: Buffer(>=128KiB), pollMs?)");
    return;
  }
  Napi::Buffer<uint8_t> batch = info[2].As<Napi::Buffer<uint8_t>>();
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
  void *p = mmap(nullptr, page_ + 2 * size_, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(page_));
  if (p == MAP_FAILED) {
    int e = errno;
    Stop();
    ThrowErrno(env, "mmap (ring buffer data)", e);
    return;
  }
  producer_page_ = static_cast<uint8_t *>(p);
  data_ = producer_page_ + page_;
  fd_ = fd;
  batch_ref_ = Napi::Persistent(batch);
  batch_ = batch.Data();
  batch_cap_ = batch.Length();
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
  uint32_t poll_ms = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
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
  uint64_t start = __atomic_load_n(consumer_, __ATOMIC_ACQUIRE);
  uint64_t prod = __atomic_load_n(producer, __ATOMIC_ACQUIRE);
  uint64_t cons = start;
  size_t room = batch_cap_ - used_;
  // Walk the committed records; stop at one still being written, or when the batch is full.
  while (cons < prod) {
    const uint32_t *hdr = reinterpret_cast<const uint32_t *>(data_ + (cons & (size_ - 1)));
    uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
    if (len & kBusyBit) break;
    uint64_t rec = ((len & ~kDiscardBit) + kHdr + 7) & ~uint64_t(7);
    if (cons - start + rec > room) {
      if (cons == start && used_ == 0) {
        // Larger than the whole batch (no program emits such a record): skip it rather than stall.
        __atomic_store_n(consumer_, cons + rec, __ATOMIC_RELEASE);
        skipped_++;
        return 0;
      }
      break;
    }
    cons += rec;
  }
  size_t n = cons - start;
  if (n == 0) return 0;
  // The data pages are mapped twice in a row: a run that wraps is still contiguous here.
  memcpy(batch_ + used_, data_ + (start & (size_ - 1)), n);
  used_ += n;
  __atomic_store_n(consumer_, cons, __ATOMIC_RELEASE);
  return n;
}

// The byte count of the batch now in the shared Buffer; resets for the next.
Napi::Value RingBuffer::TakeBatch(Napi::Env env) {
  Napi::Number used = Napi::Number::New(env, (double)used_);
  used_ = 0;
  return used;
}

void RingBuffer::Deliver() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Value used = TakeBatch(env);
  callback_.MakeCallback(env.Global(), {used});
  if (env.IsExceptionPending()) {
    // No JS frame above a libuv callback: report it as uncaught, as Node would.
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

void RingBuffer::DrainAndDeliver() {
  for (int i = 0; i < kBatchesPerWake && data_; i++) {
    if (Drain() == 0 && used_ == 0) return;
    Deliver();
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

// consume() -> bytes copied into the shared batch Buffer (0: nothing):
// drain synchronously (final flush at shutdown).
Napi::Value RingBuffer::Consume(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Drain();
  return TakeBatch(env);
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
  if (producer_page_) munmap(producer_page_, page_ + 2 * size_);
  if (consumer_) munmap(consumer_, page_);
  producer_page_ = nullptr;
  data_ = nullptr;
  consumer_ = nullptr;
  fd_ = -1;
  if (!batch_ref_.IsEmpty()) batch_ref_.Reset();
  batch_ = nullptr;
}

Napi::Value RingBuffer::Close(const Napi::CallbackInfo &info) {
  bool was_open = data_ != nullptr;
  Stop();
  if (was_open) Unref();
  return info.Env().Undefined();
}

}  // namespace wl
