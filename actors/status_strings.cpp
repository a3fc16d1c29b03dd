// The public names of peerlite's status vocabulary (include/peerlite/status.hpp).
#include "actors/errors.hpp"
#include "peerlite/status.hpp"

namespace peerlite {

const char* to_string(errc code) { return errc_name(code); }

}  // namespace peerlite
