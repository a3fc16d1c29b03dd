// peerlite: the command line. Every command group registers itself (see commands.hpp).
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/commands.hpp"

namespace peerlite::tools {

namespace {

struct group {
  int order;
  std::vector<std::string> names;
  command_adder add;
};

std::vector<group>& groups() {
  static std::vector<group> g;
  return g;
}

/// CLI11's usage errors as one line, like every other failure of this tool.
std::string one_line_failure(const CLI::App* app, const CLI::Error& e) {
  std::string name = app->get_name().empty() ? "peerlite" : app->get_name();
  return name + ": " + e.what() + " (see --help)\n";
}

}  // namespace

bool register_commands(int order, std::initializer_list<const char*> names, command_adder add) {
  groups().push_back({order, {names.begin(), names.end()}, add});
  return true;
}

bool add_commands(CLI::App& app, std::string_view name) {
  auto g = groups();
  std::stable_sort(g.begin(), g.end(), [](auto& a, auto& b) { return a.order < b.order; });
  for (auto& grp : g) {
    bool named = std::find(grp.names.begin(), grp.names.end(), name) != grp.names.end();
    if (!name.empty() && !named) continue;
    size_t before = app.get_subcommands({}).size();
    grp.add(app);
    auto added = app.get_subcommands({});
    std::vector<std::string> got;
    for (size_t i = before; i < added.size(); ++i) got.push_back(added[i]->get_name());
    if (got != grp.names) {
      std::cerr << "peerlite: internal error: a command group registered other names than it "
                   "adds\n";
      std::abort();
    }
    if (named) return true;
  }
  return name.empty();
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
  std::string_view command = argc > 1 && argv[1][0] != '-' ? argv[1] : "";
  if (!peerlite::tools::add_commands(app, command)) {
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
