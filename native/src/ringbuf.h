// A BPF ring buffer consumer on the libuv loop: the ring's epoll fd is polled
// by uv_poll (and a timer); each wake-up drains the ring into one JS-owned
// batch Buffer, reused for every batch, and makes one JS call. Never blocks
// the loop; no threads; no allocation per batch.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>
#include <uv.h>

#include <vector>

namespace wl {

class RingBuffer : public Napi::ObjectWrap<RingBuffer> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RingBuffer(const Napi::CallbackInfo &info);
  ~RingBuffer() override;

 private:
  static int OnSample(void *ctx, void *data, size_t size);
  static void OnPoll(uv_poll_t *handle, int status, int events);
  static void OnTimer(uv_timer_t *handle);
  void DrainAndDeliver();
  Napi::Value Consume(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  // Drains into batch_; returns records taken or a negative errno.
  int Drain();
  void Deliver();
  Napi::Value TakeBatch(Napi::Env env);
  void Stop();

  ring_buffer *rb_ = nullptr;
  uv_poll_t *poll_ = nullptr;
  // Drains on a timer too: programs may submit without waking us.
  uv_timer_t *timer_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::Reference<Napi::Buffer<uint8_t>> batch_ref_;
  uint8_t *batch_ = nullptr;
  size_t batch_cap_ = 0;
  size_t used_ = 0;
  uint32_t records_ = 0;
};

}  // namespace wl
