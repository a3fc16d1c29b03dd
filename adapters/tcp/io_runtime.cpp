#include "adapters/tcp/io_runtime.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>
#include <vector>

#include "adapters/tcp/net_tuning.hpp"

namespace peerlite::net {

struct io_runtime::impl {
  std::shared_ptr<boost::asio::io_context> io = std::make_shared<boost::asio::io_context>();
  /// Keeps run() from returning while no socket is busy.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(*io);
  std::vector<std::thread> threads;
};

io_runtime::io_runtime(unsigned threads) : impl_(std::make_unique<impl>()) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i)
    impl_->threads.emplace_back([io = impl_->io.get()] { io->run(); });
}

io_runtime::~io_runtime() {
  /// Let work already posted run first (a listener's stop() closing its acceptor), so ports
  /// are free once the runtime is gone. Bounded: a stuck handler must not hang shutdown.
  auto drained = std::make_shared<std::promise<void>>();
  boost::asio::post(*impl_->io, [drained] { drained->set_value(); });
  drained->get_future().wait_for(kRuntimeDrainTimeout);
  impl_->work.reset();
  impl_->io->stop();
  for (auto& t : impl_->threads) t.join();
}

boost::asio::io_context& io_runtime::context() { return *impl_->io; }

std::shared_ptr<void> io_runtime::lifeline() const { return impl_->io; }

}  // namespace peerlite::net
