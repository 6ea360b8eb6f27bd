#include "ringbuf.h"

#include <cstring>

#include "errors.h"

namespace wl {
namespace {
// Returned by OnSample once a batch is nearly full: libbpf has already
// consumed the record (it was stored), the rest waits for the next turn.
constexpr int kBatchFull = -1000;
// Room kept free so that any record fits after the last check.
constexpr size_t kMaxRecord = 64 * 1024;
}  // namespace

Napi::Function RingBuffer::Init(Napi::Env env) {
  return DefineClass(
      env, "RingBuffer",
      {InstanceMethod("consume", &RingBuffer::Consume), InstanceMethod("close", &RingBuffer::Close)});
}

// new RingBuffer(mapFd, onBatch(bytes, records), batch: Buffer, pollMs?)
// Records are written into `batch` (at least 128 KiB), which is reused: the
// callback must read it before returning. pollMs > 0 also drains every
// pollMs (for records submitted without wake-up).
// Batch layout: per record u32 length, u32 zero, bytes, padding to 8.
RingBuffer::RingBuffer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingBuffer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsBuffer() ||
      info[2].As<Napi::Buffer<uint8_t>>().Length() < 2 * kMaxRecord) {
    ThrowUsage(
        env,
        "new RingBuffer(mapFd: number, onBatch: (bytes, records) => void, batch: Buffer(>=128KiB), pollMs?)");
    return;
  }
  Napi::Buffer<uint8_t> batch = info[2].As<Napi::Buffer<uint8_t>>();
  batch_ref_ = Napi::Persistent(batch);
  batch_ = batch.Data();
  batch_cap_ = batch.Length();
  int fd = info[0].As<Napi::Number>().Int32Value();
  rb_ = ring_buffer__new(fd, OnSample, this, nullptr);
  int err = libbpf_get_error(rb_);
  if (err || !rb_) {
    rb_ = nullptr;
    ThrowErrno(env, "ring_buffer__new", err ? err : errno);
    return;
  }
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  poll_->data = this;
  err = uv_poll_init(loop, poll_, ring_buffer__epoll_fd(rb_));
  if (err) {
    delete poll_;  // never initialised: libuv does not know it
    poll_ = nullptr;
  } else {
    err = uv_poll_start(poll_, UV_READABLE, OnPoll);
    if (err) Stop();  // closes the initialised handle properly
  }
  if (err) {
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

int RingBuffer::OnSample(void *ctx, void *data, size_t size) {
  auto *self = static_cast<RingBuffer *>(ctx);
  size_t padded = (size + 7) & ~size_t(7);
  // Cannot happen: kMaxRecord bytes stay free after every record, and no
  // program emits a record that large.
  if (self->used_ + 8 + padded > self->batch_cap_) return kBatchFull;
  uint8_t *p = self->batch_ + self->used_;
  uint32_t hdr[2] = {static_cast<uint32_t>(size), 0};
  memcpy(p, hdr, 8);
  memcpy(p + 8, data, size);
  if (padded > size) memset(p + 8 + size, 0, padded - size);
  self->used_ += 8 + padded;
  self->records_++;
  return self->used_ + kMaxRecord > self->batch_cap_ ? kBatchFull : 0;
}

int RingBuffer::Drain() {
  if (!rb_) return 0;
  int n = ring_buffer__consume(rb_);
  if (n == kBatchFull) return records_;
  return n;
}

// The byte count of the batch now in the shared Buffer; resets for the next.
Napi::Value RingBuffer::TakeBatch(Napi::Env env) {
  Napi::Number used = Napi::Number::New(env, (double)used_);
  used_ = 0;
  records_ = 0;
  return used;
}

void RingBuffer::Deliver() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  uint32_t n = records_;
  Napi::Value used = TakeBatch(env);
  callback_.MakeCallback(env.Global(), {used, Napi::Number::New(env, n)});
  if (env.IsExceptionPending()) {
    // No JS frame above a libuv callback: report it as uncaught, as Node would.
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

void RingBuffer::DrainAndDeliver() {
  if (!rb_) return;
  int n = Drain();
  if (n < 0) return;  // consume error: the next wake-up retries
  if (records_ > 0) Deliver();
}

void RingBuffer::OnPoll(uv_poll_t *handle, int status, int events) {
  auto *self = static_cast<RingBuffer *>(handle->data);
  if (self) self->DrainAndDeliver();
}

void RingBuffer::OnTimer(uv_timer_t *handle) {
  auto *self = static_cast<RingBuffer *>(handle->data);
  if (self) self->DrainAndDeliver();
}

// consume() -> bytes written into the shared batch Buffer (0: nothing):
// drain synchronously (final flush at shutdown).
Napi::Value RingBuffer::Consume(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!rb_) return Napi::Number::New(env, 0);
  int n = Drain();
  if (n < 0 && records_ == 0) {
    ThrowErrno(env, "ring_buffer__consume", n);
    return env.Undefined();
  }
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
  if (rb_) {
    ring_buffer__free(rb_);
    rb_ = nullptr;
  }
  if (!batch_ref_.IsEmpty()) batch_ref_.Reset();
  batch_ = nullptr;
}

Napi::Value RingBuffer::Close(const Napi::CallbackInfo &info) {
  bool was_open = rb_ != nullptr;
  Stop();
  if (was_open) Unref();
  return info.Env().Undefined();
}

}  // namespace wl
