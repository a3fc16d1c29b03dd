// peerlite as a library an app builds against, the way an app developer would: the installed
// CMake package, the pkg-config file, the source tree added with add_subdirectory, and the
// Debian package. Each case builds the README's Embedding example (taken from README.md, so the
// README can never show code that does not compile) and runs it: an embedded hub and a second
// database synced with it through a ws:// URL, both holding the same documents. The last case
// checks the API reference documents every public declaration, and that the check can fail.
#define BOOST_TEST_MODULE install
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// Longest one step (configure, build, install, pack, run) may take. Building the library
/// from source for the add_subdirectory case is the slowest: about 2 minutes on one core.
constexpr int kStepTimeoutSeconds = 900;

/// The marker above the README's example program.
constexpr const char* kExampleMarker = "<!-- embedding-example:";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Single-quoted for the shell.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct run_result {
  int rc = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `cmd` under bash with a time limit, its output kept in `log` (and returned).
run_result run(const std::string& cmd, const fs::path& log) {
  std::string line = "timeout " + std::to_string(kStepTimeoutSeconds) + " bash -c " + q(cmd) +
                     " >" + q(log.string()) + " 2>&1 </dev/null";
  int status = std::system(line.c_str());
  run_result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = slurp(log);
  return r;
}

/// The tail of a command's output, for a failure message.
std::string tail(const std::string& s, size_t n = 3000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

/// The C++ program between the README's example marker and the end of its ```cpp block.
std::string readme_example() {
  auto readme = slurp(fs::path(PEERLITE_SOURCE_DIR) / "README.md");
  auto marker = readme.find(kExampleMarker);
  if (marker == std::string::npos) return {};
  auto fence = readme.find("```cpp\n", marker);
  if (fence == std::string::npos) return {};
  auto begin = fence + 7;
  auto end = readme.find("\n```", begin);
  if (end == std::string::npos) return {};
  return readme.substr(begin, end - begin + 1);
}

/// A scratch directory for one case, removed after it (kept if PEERLITE_KEEP_SCRATCH is set).
struct scratch {
  fs::path dir;
  explicit scratch(const std::string& name)
      : dir(fs::temp_directory_path() /
            ("peerlite-install-" + name + "-" + std::to_string(getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~scratch() {
    if (std::getenv("PEERLITE_KEEP_SCRATCH")) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  /// A consumer project: tests/install/consumer's CMakeLists.txt and the README's example.
  fs::path consumer() {
    auto src = dir / "app";
    fs::create_directories(src);
    fs::copy_file(fs::path(PEERLITE_SOURCE_DIR) / "tests/install/consumer/CMakeLists.txt",
                  src / "CMakeLists.txt");
    auto program = readme_example();
    BOOST_TEST_REQUIRE(!program.empty(), "README.md has no example after " << kExampleMarker);
    std::ofstream(src / "main.cpp") << program;
    return src;
  }
};

/// `cmake -S src -B build` with peerlite's generator and compiler, and `extra` arguments.
std::string configure(const fs::path& src, const fs::path& build, const std::string& extra) {
  return std::string(PEERLITE_CMAKE) + " -S " + q(src.string()) + " -B " + q(build.string()) +
         " -G " + q(PEERLITE_GENERATOR) + " -DCMAKE_MAKE_PROGRAM=" + q(PEERLITE_MAKE_PROGRAM) +
         " -DCMAKE_CXX_COMPILER=" + q(PEERLITE_CXX) + " " + extra;
}

/// Runs the example with its databases in `dir/data`; checks what it printed.
void run_example(const fs::path& exe, const fs::path& dir) {
  fs::create_directories(dir / "data");
  auto r = run(q(exe.string()) + " " + q((dir / "data").string()), dir / "example.log");
  BOOST_TEST(r.rc == 0, "the example failed: " << tail(r.output));
  BOOST_TEST(r.output.find("hub: 127.0.0.1:") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("hub and till hold the same 2 documents; the hub took 1 and sent 1") !=
                 std::string::npos,
             r.output);
}

/// `cmake --install` of this build into `prefix`.
void install_into(const fs::path& prefix, const fs::path& log) {
  auto r = run(std::string(PEERLITE_CMAKE) + " --install " + q(PEERLITE_BUILD_DIR) +
                   " --prefix " + q(prefix.string()),
               log);
  BOOST_TEST_REQUIRE(r.rc == 0, "install failed: " << tail(r.output));
}

/// Configures the consumer project `src` into `dir`/build with `extra` arguments.
void configure_consumer(const fs::path& dir, const fs::path& src, const std::string& extra) {
  auto r = run(configure(src, dir / "build", extra), dir / "configure.log");
  BOOST_TEST_REQUIRE(r.rc == 0, "configure failed: " << tail(r.output));
}

/// Builds `dir`/build (`args`: more `cmake --build` arguments) and runs the example it made.
void build_and_run(const fs::path& dir, const std::string& args = {}) {
  auto r = run(std::string(PEERLITE_CMAKE) + " --build " + q((dir / "build").string()) + " " + args,
               dir / "build.log");
  BOOST_TEST_REQUIRE(r.rc == 0, "build failed: " << tail(r.output));
  run_example(dir / "build/embed", dir);
}

/// The files an app needs, under an installed prefix.
const std::vector<std::string> kInstalledFiles = {
    "include/peerlite/peerlite.hpp",
    "include/peerlite/database.hpp",
    "include/peerlite/replicator.hpp",
    "include/peerlite/hub.hpp",
    "include/peerlite/net.hpp",
    "lib/libpeerlite.a",
    "lib/libpeerlite_adapters.a",
    "lib/cmake/peerlite/peerliteConfig.cmake",
    "lib/cmake/peerlite/peerliteConfigVersion.cmake",
    "lib/cmake/peerlite/peerliteTargets.cmake",
    "lib/pkgconfig/peerlite.pc",
    "bin/peerlite",
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_readme_names_its_example_and_it_is_a_whole_program) {
  auto program = readme_example();
  BOOST_TEST_REQUIRE(!program.empty());
  BOOST_TEST(program.find("int main(") != std::string::npos);
  BOOST_TEST(program.find("#include <peerlite/hub.hpp>") != std::string::npos);
  BOOST_TEST(program.find("peerlite::make_url_endpoint") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(find_package_builds_the_example_against_an_installed_prefix) {
  scratch s("cmake");
  auto prefix = s.dir / "prefix";
  install_into(prefix, s.dir / "install.log");
  for (auto& f : kInstalledFiles) BOOST_TEST(fs::exists(prefix / f), f << " not installed");
  auto cli = run(q((prefix / "bin/peerlite").string()) + " --help", s.dir / "help.log");
  BOOST_TEST(cli.rc == 0, tail(cli.output));

  configure_consumer(s.dir, s.consumer(), "-DCMAKE_PREFIX_PATH=" + q(prefix.string()));
  build_and_run(s.dir);

  // The version file: this minor version is found, another one is not.
  std::ofstream(s.dir / "want.cmake") << "cmake_minimum_required(VERSION 3.20)\n"
                                         "project(want LANGUAGES CXX)\n"
                                         "find_package(peerlite 9.0 REQUIRED)\n";
  fs::create_directories(s.dir / "want");
  fs::copy_file(s.dir / "want.cmake", s.dir / "want/CMakeLists.txt");
  auto r = run(configure(s.dir / "want", s.dir / "want-build",
                         "-DCMAKE_PREFIX_PATH=" + q(prefix.string())),
               s.dir / "want.log");
  BOOST_TEST(r.rc != 0, "find_package(peerlite 9.0) should not accept " << PEERLITE_VERSION);
  BOOST_TEST(r.output.find("9.0") != std::string::npos, tail(r.output));
}

BOOST_AUTO_TEST_CASE(pkg_config_builds_the_same_example) {
  scratch s("pkgconfig");
  auto prefix = s.dir / "prefix";
  install_into(prefix, s.dir / "install.log");
  auto src = s.consumer();
  auto pc = "PKG_CONFIG_PATH=" + q((prefix / "lib/pkgconfig").string()) + " pkg-config";
  auto version = run(pc + " --modversion peerlite", s.dir / "version.log");
  BOOST_TEST(version.rc == 0, tail(version.output));
  BOOST_TEST(version.output == std::string(PEERLITE_VERSION) + "\n");
  auto r = run(std::string(PEERLITE_CXX) + " -std=c++20 " + q((src / "main.cpp").string()) +
                   " -o " + q((s.dir / "embed").string()) + " $(" + pc +
                   " --cflags --libs peerlite)",
               s.dir / "build.log");
  BOOST_TEST_REQUIRE(r.rc == 0, "g++ with pkg-config failed: " << tail(r.output));
  run_example(s.dir / "embed", s.dir);
}

BOOST_AUTO_TEST_CASE(add_subdirectory_builds_only_the_library) {
  scratch s("subdir");
  auto src = s.consumer();
  // No build type (no optimisation) and a unity build: the library's sources compile in about
  // 2 minutes on one core here instead of 5 (CAF's headers are parsed once per library, not
  // once per file). Also a check that the sources stay fit for a unity build.
  configure_consumer(s.dir, src,
                     "-DPEERLITE_SOURCE_DIR=" + q(PEERLITE_SOURCE_DIR) + " -DCMAKE_UNITY_BUILD=ON");
  auto targets = run(q(PEERLITE_MAKE_PROGRAM) + " -C " + q((s.dir / "build").string()) +
                         " -t targets all",
                     s.dir / "targets.log");
  BOOST_TEST_REQUIRE(targets.rc == 0, tail(targets.output));
  BOOST_TEST(targets.output.find("libpeerlite_adapters.a") != std::string::npos);
  for (auto not_built : {"_test", "peerlite-bench", "peerlite-soak", "peerlite_cli", "docs:"})
    BOOST_TEST(targets.output.find(not_built) == std::string::npos,
               "a subproject build should not make " << not_built);
  // Nothing in the generated build reads outside the source tree's library folders.
  auto ninja = slurp(s.dir / "build/build.ninja");
  auto source = fs::path(PEERLITE_SOURCE_DIR);
  BOOST_TEST(ninja.find((source.parent_path() / "shared").string()) == std::string::npos);
  BOOST_TEST(ninja.find((source / "tests").string()) == std::string::npos);
  BOOST_TEST(ninja.find((source / "bench").string()) == std::string::npos);
  build_and_run(s.dir, "--target embed -j 1");
}

BOOST_AUTO_TEST_CASE(the_debian_package_holds_headers_libraries_cmake_files_and_command) {
  scratch s("deb");
  auto r = run("cd " + q(s.dir.string()) + " && " + PEERLITE_CPACK + " -G DEB --config " +
                   q(std::string(PEERLITE_BUILD_DIR) + "/CPackConfig.cmake"),
               s.dir / "cpack.log");
  BOOST_TEST_REQUIRE(r.rc == 0, "cpack failed: " << tail(r.output));
  // peerlite_VERSION_ARCH.deb, ARCH being this machine's Debian architecture.
  fs::path deb;
  for (auto& f : fs::directory_iterator(s.dir))
    if (f.path().extension() == ".deb" &&
        f.path().filename().string().rfind(std::string("peerlite_") + PEERLITE_VERSION + "_", 0) == 0)
      deb = f.path();
  BOOST_TEST_REQUIRE(!deb.empty(), "no peerlite_" << PEERLITE_VERSION << "_*.deb: " << tail(r.output));
  auto list = run("dpkg -c " + q(deb.string()), s.dir / "list.log");
  BOOST_TEST_REQUIRE(list.rc == 0, tail(list.output));
  for (auto& f : kInstalledFiles)
    BOOST_TEST(list.output.find("./usr/" + f) != std::string::npos, f << " not in the package");
  auto info = run("dpkg -f " + q(deb.string()) + " Package Version Depends", s.dir / "info.log");
  BOOST_TEST_REQUIRE(info.rc == 0, tail(info.output));
  BOOST_TEST(info.output.find(std::string("Version: ") + PEERLITE_VERSION) != std::string::npos);
  for (auto dep : {"libcaf-dev", "libsqlite3-dev", "libfmt-dev", "libssl-dev", "libsimdjson-dev",
                   "libdeflate-dev"})
    BOOST_TEST(info.output.find(dep) != std::string::npos, dep << " not a dependency");

  // Unpacked (as apt would, but into a scratch root), it builds and runs the example.
  auto root = s.dir / "root";
  r = run("dpkg-deb -x " + q(deb.string()) + " " + q(root.string()), s.dir / "extract.log");
  BOOST_TEST_REQUIRE(r.rc == 0, tail(r.output));
  configure_consumer(s.dir, s.consumer(), "-DCMAKE_PREFIX_PATH=" + q((root / "usr").string()));
  build_and_run(s.dir);
}

BOOST_AUTO_TEST_CASE(the_api_reference_documents_every_public_declaration) {
  scratch s("docs");
  auto doxygen = run("command -v doxygen", s.dir / "which.log");
  BOOST_TEST_REQUIRE(doxygen.rc == 0, "doxygen is not installed (./run deps installs it)");
  // The build's Doxyfile, with warnings turned into a failure and the output kept here.
  auto doxyfile = slurp(fs::path(PEERLITE_BUILD_DIR) / "Doxyfile");
  BOOST_TEST_REQUIRE(!doxyfile.empty());
  auto strict = doxyfile + "\nOUTPUT_DIRECTORY = " + (s.dir / "out").string() +
                "\nWARN_AS_ERROR = FAIL_ON_WARNINGS\n";
  std::ofstream(s.dir / "Doxyfile") << strict;
  auto r = run("doxygen " + q((s.dir / "Doxyfile").string()), s.dir / "doxygen.log");
  BOOST_TEST(r.rc == 0, "undocumented public declarations:\n" << tail(r.output));
  BOOST_TEST(r.output.find("warning") == std::string::npos, tail(r.output));
  BOOST_TEST(fs::exists(s.dir / "out/html/index.html"));
  auto index = slurp(s.dir / "out/html/index.html");
  BOOST_TEST(index.find("peerlite") != std::string::npos);

  // The same check over a header with one undocumented function fails.
  fs::create_directories(s.dir / "bad");
  std::ofstream(s.dir / "bad/bad.hpp") << "/// \\file\n/// A header.\nint undocumented(int);\n";
  std::ofstream(s.dir / "Doxyfile.bad")
      << strict << "INPUT = " << (s.dir / "bad").string() << "\nOUTPUT_DIRECTORY = "
      << (s.dir / "out-bad").string() << "\n";
  auto bad = run("doxygen " + q((s.dir / "Doxyfile.bad").string()), s.dir / "bad.log");
  BOOST_TEST(bad.rc != 0, "an undocumented declaration passed: " << bad.output);
  BOOST_TEST(bad.output.find("undocumented") != std::string::npos, bad.output);
}
