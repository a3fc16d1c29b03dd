#include "adapters/tcp/io_runtime.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
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
    impl_->threads.emplace_back([io = impl_->io] { io->run(); });  // keeps its context
}

io_runtime::~io_runtime() {
  /// Let work already posted run first (a listener's stop() closing its acceptor), so ports
  /// are free once the runtime is gone. Bounded: a stuck handler must not hang shutdown.
  auto drained = std::make_shared<std::promise<void>>();
  boost::asio::post(*impl_->io, [drained] { drained->set_value(); });
  drained->get_future().wait_for(kRuntimeDrainTimeout);
  impl_->work.reset();
  impl_->io->stop();
  /// Joined, unless the last owner lets go on the runtime's own thread (a socket callback that
  /// held the last endpoint): that thread ends once run() returns.
  for (auto& t : impl_->threads) {
    if (t.get_id() == std::this_thread::get_id())
      t.detach();
    else
      t.join();
  }
}

boost::asio::io_context& io_runtime::context() { return *impl_->io; }

size_t io_runtime::prewarm(size_t sockets) {
  namespace asio = boost::asio;
  std::vector<asio::ip::tcp::socket> open;
  open.reserve(sockets);
  for (size_t i = 0; i < sockets; ++i) {
    asio::ip::tcp::socket s(asio::make_strand(*impl_->io));
    boost::system::error_code ec;
    s.open(asio::ip::tcp::v4(), ec);  // registers the descriptor with the reactor
    if (ec) break;
    open.push_back(std::move(s));
  }
  size_t n = open.size();
  open.clear();
  /// The strand mutex table has 193 slots, picked by hashing each new strand's address: a few
  /// thousand strands fill it (about 1,100 on average), whether sockets ran out or not.
  for (size_t i = n; i < kPrewarmStrands; ++i) (void)asio::make_strand(*impl_->io);
  return n;
}

std::shared_ptr<void> io_runtime::lifeline() const { return impl_->io; }

}  // namespace peerlite::net
