// A BPF ring buffer consumer on the libuv loop: the ring map's fd is polled
// by uv_poll (and a timer); each wake-up hands JS the run of committed
// records where the kernel wrote them (one call, no copy), then gives the
// memory back. The ring is read through its own mmap (the kernel's ABI: a
// consumer page, then the producer page and the data pages mapped twice),
// not libbpf's ring_buffer: the consumer position is written once per run,
// not once per record (each write is a cache line the producing CPU reads
// back), and no record is copied. Never blocks the loop; no threads; no
// allocation per batch.
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
  Napi::Value Memory(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value WriteRanges(const Napi::CallbackInfo &info);
  // The ring's unread bytes, from the consumer position (records may still be being written).
  size_t Drain();
  size_t Deliver();
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
  Napi::Reference<Napi::ArrayBuffer> memory_;
  uint64_t run_start_ = 0;  // ring positions of the run Drain() found
  uint64_t run_end_ = 0;
};

}  // namespace wl
