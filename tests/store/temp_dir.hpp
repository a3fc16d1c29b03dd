// A fresh temporary directory per test, removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "peerlite-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

/// Concatenates text pieces (avoids GCC 12's -Wrestrict false positive on "lit" + to_string()).
template <class... Ts>
std::string cat(const Ts&... parts) {
  std::string out;
  (out.append(parts), ...);
  return out;
}
