// peerlite command line: how command groups join the `peerlite` executable.
//
// Each group lives in its own tools/*.cpp (tools/CMakeLists.txt globs them) and registers a
// function that adds its subcommands to the app, at static-init time:
//
//   void add_serve_commands(CLI::App& app);   // app.add_subcommand("serve", "...") ...
//   static const bool registered =
//       peerlite::tools::register_commands(20, {"serve"}, add_serve_commands);
//
// Groups are added in ascending `order` (store commands use 10), so --help is stable. `names`
// are the subcommands the group adds: `peerlite NAME ...` builds only NAME's group (building
// all of them took 1.2-1.7 ms of every run; a no-op sync is ~30 ms), and a group that adds
// other names than it registered stops `peerlite --help` with an internal error.
// A subcommand reports failure by calling fail(): one line on stderr, a non-zero exit.
#pragma once

#include <CLI/CLI.hpp>
#include <peerlite/status.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

namespace peerlite::tools {

using command_adder = void (*)(CLI::App& app);

/// Registers a group of subcommands. Returns true so it can initialize a static.
bool register_commands(int order, std::initializer_list<const char*> names, command_adder add);

/// Adds to `app` the group that registered `name`, or every group when `name` is empty (for
/// --help). False when no group registered `name`.
bool add_commands(CLI::App& app, std::string_view name);

/// Exit status for a command that failed on its input or its database.
inline constexpr int kExitFailure = 1;

/// Prints "peerlite <command>: <message>" as one line on stderr and ends the command with
/// kExitFailure (throws CLI::RuntimeError, which main turns into the exit status).
[[noreturn]] void fail(const std::string& command, const std::string& message);

/// fail() with an error's message.
[[noreturn]] inline void fail(const std::string& command, const error& e) {
  fail(command, e.message);
}

}  // namespace peerlite::tools
