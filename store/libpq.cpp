#include "store/libpq.hpp"

#include <dlfcn.h>

#include <mutex>

namespace peerlite::store {

namespace {

libpq_functions table;
std::string failure;

void load() {
  void* lib = ::dlopen(kLibpqSoname, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    failure = std::string("cannot load ") + kLibpqSoname + " (" + (why ? why : "unknown") +
              "); install libpq5 to use postgresql:// databases";
    return;
  }
  libpq_functions t;
#define PEERLITE_LIBPQ_LOOKUP(name)                                                  \
  t.name = reinterpret_cast<decltype(&::name)>(::dlsym(lib, #name));                 \
  if (!t.name) {                                                                     \
    failure = std::string(kLibpqSoname) + " lacks " #name "; libpq is too old or broken"; \
    return;                                                                          \
  }
  PEERLITE_LIBPQ_FUNCTIONS(PEERLITE_LIBPQ_LOOKUP)
#undef PEERLITE_LIBPQ_LOOKUP
  table = t;  // the library stays loaded for the process's life
}

}  // namespace

const libpq_functions* load_libpq(std::string* why) {
  static std::once_flag once;
  std::call_once(once, load);
  if (!failure.empty()) {
    if (why) *why = failure;
    return nullptr;
  }
  return &table;
}

const libpq_functions& pq() { return table; }

}  // namespace peerlite::store
