#include "adapters/tcp/io_runtime.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

namespace peerlite::net {

struct io_runtime::impl {
  boost::asio::io_context io;
  /// Keeps run() from returning while no socket is busy.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
};

io_runtime::io_runtime(unsigned threads) : impl_(std::make_unique<impl>()) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i)
    impl_->threads.emplace_back([io = &impl_->io] { io->run(); });
}

io_runtime::~io_runtime() {
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
}

boost::asio::io_context& io_runtime::context() { return impl_->io; }

}  // namespace peerlite::net
