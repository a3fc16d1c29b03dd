// libFuzzer target: every replication message decoder on arbitrary properties and bodies.
//
// Input: byte 0 picks the decoder, byte 1 the message type (bits 0-1) and whether the matching
// Profile is prepended (bit 2, so the fuzzer reaches past the Profile check at once); the rest
// is "k\0v\0k\0v" properties, a 0x01 byte, then the body.
// Property checked beyond "no crash": whatever decodes re-encodes to a message that decodes
// again, and encoding is then stable (encode(decode(encode(x))) == encode(x)).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/rep_messages.hpp"

using namespace peerlite;
using namespace peerlite::protocol;
using namespace peerlite::protocol::rep;

namespace {

bool same(const message& a, const message& b) {
  return a.body == b.body && a.properties == b.properties && a.urgent == b.urgent &&
         a.no_reply == b.no_reply && a.compressed == b.compressed;
}

template <class T, class... Num>
void round_trip(const message& m, Num... reply_number) {
  auto first = T::decode(m);
  if (!first) {
    if (first.err().message.empty()) abort();  // every error must say what went wrong
    return;
  }
  message e1 = first->encode(reply_number...);
  auto second = T::decode(e1);
  if (!second) abort();
  if (!same(e1, second->encode(reply_number...))) abort();
}

message parse_input(const uint8_t* data, size_t size, std::string_view profile) {
  message m;
  m.type = static_cast<message_type>(data[1] & 3);
  m.number = 7;
  if (data[1] & 4) m.properties.emplace_back("Profile", std::string(profile));
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t split = rest.find('\x01');
  std::string_view props = rest.substr(0, split);
  if (split != std::string_view::npos) m.body = std::string(rest.substr(split + 1));
  while (!props.empty()) {
    size_t k = props.find('\0');
    std::string key(props.substr(0, k));
    props.remove_prefix(k == std::string_view::npos ? props.size() : k + 1);
    size_t v = props.find('\0');
    std::string value(props.substr(0, v));
    props.remove_prefix(v == std::string_view::npos ? props.size() : v + 1);
    m.properties.emplace_back(std::move(key), std::move(value));
  }
  return m;
}

constexpr std::string_view kProfiles[] = {profile::get_checkpoint,
                                          profile::get_checkpoint,
                                          profile::set_checkpoint,
                                          profile::set_checkpoint,
                                          profile::sub_changes,
                                          profile::changes,
                                          profile::changes,
                                          profile::propose_changes,
                                          profile::propose_changes,
                                          profile::rev,
                                          profile::norev,
                                          profile::get_attachment,
                                          profile::prove_attachment,
                                          profile::get_collections,
                                          profile::get_collections};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t kind = data[0] % std::size(kProfiles);
  message m = parse_input(data, size, kProfiles[kind]);
  switch (kind) {
    case 0:
      round_trip<get_checkpoint_request>(m);
      break;
    case 1:
      round_trip<get_checkpoint_reply>(m, uint64_t{7});
      break;
    case 2:
      round_trip<set_checkpoint_request>(m);
      break;
    case 3:
      round_trip<set_checkpoint_reply>(m, uint64_t{7});
      break;
    case 4:
      round_trip<sub_changes_request>(m);
      break;
    case 5:
      round_trip<changes_request>(m);
      break;
    case 6:
      round_trip<changes_reply>(m, uint64_t{7});
      break;
    case 7:
      round_trip<propose_changes_request>(m);
      break;
    case 8:
      round_trip<propose_changes_reply>(m, uint64_t{7});
      break;
    case 9:
      round_trip<rev_message>(m);
      break;
    case 10:
      round_trip<norev_message>(m);
      break;
    case 11:
      round_trip<get_attachment_request>(m);
      break;
    case 12:
      round_trip<prove_attachment_request>(m);
      break;
    case 13:
      round_trip<get_collections_request>(m);
      break;
    case 14:
      round_trip<get_collections_reply>(m, uint64_t{7});
      break;
  }
  if (size > 2 && data[2] == 'C') (void)checkpoint::from_json(m.body);
  return 0;
}
