#include "actors/errors.hpp"

namespace peerlite {

caf::error make_error(errc code, std::string message) {
  if (code == errc::ok) return caf::error{};
  return caf::error{static_cast<uint8_t>(code), kErrorCategory,
                    caf::make_message(std::move(message))};
}

caf::error make_error(const error& e) { return make_error(e.code, e.message); }

int http_status_for(const error& e) {
  switch (e.code) {
    case errc::unavailable:
      return 503;
    case errc::conflict:
      return 409;
    default:
      return 500;
  }
}

std::string peer_error_text(const error& e) {
  return e.code == errc::unavailable ? std::string(kUnavailableText) : e.message;
}

const char* errc_name(errc code) {
  switch (code) {
    case errc::ok:
      return "ok";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
      return "conflict";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::not_a_database:
      return "not_a_database";
    case errc::io_error:
      return "io_error";
    case errc::read_only:
      return "read_only";
    case errc::protocol_error:
      return "protocol_error";
    case errc::too_large:
      return "too_large";
    case errc::disconnected:
      return "disconnected";
    case errc::timeout:
      return "timeout";
    case errc::transport_transient:
      return "transport_transient";
    case errc::transport_permanent:
      return "transport_permanent";
    case errc::unauthorized:
      return "unauthorized";
    case errc::stopped:
      return "stopped";
    case errc::unavailable:
      return "unavailable";
  }
  return "unknown";
}

namespace {

/// The string a make_error() put into the context, if any.
std::string context_text(const caf::message& ctx) {
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return ctx.empty() ? std::string{} : caf::to_string(ctx);
}

errc from_caf_sec(caf::sec s) {
  switch (s) {
    case caf::sec::request_timeout:
      return errc::timeout;
    case caf::sec::request_receiver_down:
      return errc::disconnected;
    default:
      return errc::io_error;
  }
}

}  // namespace

error to_error(const caf::error& x) {
  if (!x) return {};
  if (x.category() == kErrorCategory)
    return {static_cast<errc>(x.code()), context_text(x.context())};
  if (x.category() == caf::atom("system")) {
    auto s = static_cast<caf::sec>(x.code());
    return {from_caf_sec(s), caf::to_string(x)};
  }
  if (x.category() == caf::atom("exit")) return {errc::disconnected, caf::to_string(x)};
  return {errc::io_error, caf::to_string(x)};
}

std::string render_error(uint8_t code, caf::atom_value, const caf::message& context) {
  std::string out = "peerlite: ";
  out += errc_name(static_cast<errc>(code));
  auto text = context_text(context);
  if (!text.empty()) {
    out += " (";
    out += text;
    out += ")";
  }
  return out;
}

}  // namespace peerlite
