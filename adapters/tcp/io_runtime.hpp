// The threads that run the network adapters' sockets (Boost.Asio). One io_runtime serves any
// number of connections and listeners; it lives as long as they do.
//
// Thread safety: construct and destroy from one thread; context() may be used from any thread.
#pragma once

#include <memory>

namespace boost::asio {
class io_context;
}

namespace peerlite::net {

class io_runtime {
 public:
  /// Starts `threads` (>= 1) threads running the io_context. One is plenty for thousands of
  /// sockets: the engine's actors do the heavy work, the socket threads only copy bytes.
  explicit io_runtime(unsigned threads = 1);
  /// Stops the threads and joins them. Connections still open are dropped without callbacks,
  /// so close listeners and replicators first. The io_context itself lives on while any socket
  /// holds its lifeline(): an engine may destroy a connection object after this runtime.
  ~io_runtime();
  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  boost::asio::io_context& context();

  /// Opens and closes `sockets` sockets, each on its own strand, from the calling thread, and
  /// returns how many it opened (fewer when file descriptors ran out). A server calls it once
  /// at start: Asio keeps one reactor state per socket that was ever open at the same time in
  /// a pool it never frees, and strands take their mutexes from a table filled on first use.
  /// Made in a burst of connections, those blocks land between the connections' own and pin
  /// their heap pages after the burst (about 3 MiB after 1,000 connections came and went);
  /// made here, they sit together and later bursts reuse them.
  size_t prewarm(size_t sockets);

  /// Keeps the io_context (not the threads) alive; every socket object holds one, so it can be
  /// destroyed safely on any thread at any time.
  std::shared_ptr<void> lifeline() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace peerlite::net
