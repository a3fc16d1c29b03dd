// peerlite: the command line. Every command group registers itself (see commands.hpp).
#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "tools/commands.hpp"

namespace peerlite::tools {

namespace {

std::vector<std::pair<int, command_adder>>& groups() {
  static std::vector<std::pair<int, command_adder>> g;
  return g;
}

/// CLI11's usage errors as one line, like every other failure of this tool.
std::string one_line_failure(const CLI::App* app, const CLI::Error& e) {
  std::string name = app->get_name().empty() ? "peerlite" : app->get_name();
  return name + ": " + e.what() + " (see --help)\n";
}

}  // namespace

bool register_commands(int order, command_adder add) {
  groups().emplace_back(order, add);
  return true;
}

void add_all_commands(CLI::App& app) {
  auto g = groups();
  std::stable_sort(g.begin(), g.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [order, add] : g) add(app);
}

void fail(const std::string& command, const std::string& message) {
  std::cerr << "peerlite " << command << ": " << message << std::endl;
  throw CLI::RuntimeError(kExitFailure);
}

}  // namespace peerlite::tools

int main(int argc, char** argv) {
  CLI::App app{
      "peerlite: peer-to-peer replication for document databases (Couchbase Lite "
      "replication protocol, BLIP 3 + CBMobile_3) and its document store.",
      "peerlite"};
  app.require_subcommand(1);
  app.failure_message(peerlite::tools::one_line_failure);
  peerlite::tools::add_all_commands(app);
  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](CLI::App* s) { return s->get_name() == argv[1]; }).empty()) {
    std::cerr << "peerlite: unknown command \"" << argv[1] << "\" (see --help)" << std::endl;
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
