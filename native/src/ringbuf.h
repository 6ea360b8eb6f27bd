// A BPF ring buffer consumer on the libuv loop: the ring map's fd is polled
// by uv_poll (and a timer); each wake-up copies the committed records into
// one JS-owned batch Buffer, reused for every batch, and makes one JS call.
// The ring is read through its own mmap (the kernel's ABI: a consumer page,
// then the producer page and the data pages mapped twice), not libbpf's
// ring_buffer: a run of records is copied with one memcpy and the consumer
// position written once per batch, not once per record (each write is a
// cache line the producing CPU reads back). Never blocks the loop; no
// threads; no allocation per batch.
#pragma once
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
  static void OnPoll(uv_poll_t *handle, int status, int events);
  static void OnTimer(uv_timer_t *handle);
  void DrainAndDeliver();
  Napi::Value Consume(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  // Copies committed records into batch_ after what it holds; returns the bytes copied.
  size_t Drain();
  void Deliver();
  Napi::Value TakeBatch(Napi::Env env);
  void Stop();

  int fd_ = -1;
  size_t page_ = 0;
  size_t size_ = 0;                   // data bytes (a power of two)
  uint64_t *consumer_ = nullptr;      // mmap'ed, read-write: our position
  uint8_t *producer_page_ = nullptr;  // mmap'ed, read-only: producer position, then data twice
  const uint8_t *data_ = nullptr;
  uv_poll_t *poll_ = nullptr;
  // Drains on a timer too: programs may submit without waking us.
  uv_timer_t *timer_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::Reference<Napi::Buffer<uint8_t>> batch_ref_;
  uint8_t *batch_ = nullptr;
  size_t batch_cap_ = 0;
  size_t used_ = 0;
  uint64_t skipped_ = 0;  // records larger than the batch, never delivered
};

}  // namespace wl
