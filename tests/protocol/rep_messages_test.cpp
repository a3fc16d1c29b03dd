// Replication message codecs (PROTOCOL.md §3): bodies and properties taken from the real
// Couchbase Lite 3.2 captures in tests/vectors/cbl-3.2 decode, re-encode byte for byte where
// the reference is deterministic, and malformed input fails with a clear error.
#define BOOST_TEST_MODULE rep_messages
#include "protocol/rep_messages.hpp"

#include <boost/test/unit_test.hpp>

namespace peerlite {
std::ostream& operator<<(std::ostream& os, errc c) { return os << static_cast<int>(c); }
}  // namespace peerlite

using namespace peerlite;
using namespace peerlite::protocol;
using namespace peerlite::protocol::rep;

namespace {

message request(property_list props, std::string body = {}) {
  message m;
  m.type = message_type::request;
  m.properties = std::move(props);
  m.body = std::move(body);
  return m;
}

message reply(property_list props, std::string body = {}) {
  message m = request(std::move(props), std::move(body));
  m.type = message_type::reply;
  m.number = 7;
  return m;
}

/// The error message of a failed decode, checked to be a protocol_error.
template <class T>
std::string failure(const expected<T>& r) {
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.err().code == errc::protocol_error);
  return r.err().message;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// pull.jsonl, s2c message 1 (Profile changes, flags 0x18 urgent|compressed), verbatim.
const std::string kPullChanges =
    R"([[1,"b1","1-7dcdf133b7f91ae68c7ab98c79d78493ab71bf34",0,12],)"
    R"([2,"b2","1-f702b8760d4208c18498c97c785ca6b339a5e772",0,12],)"
    R"([3,"b3","1-e1451f51ca2c6b406f1306e859faeb1c9c610a24",0,12],)"
    R"([4,"a1","1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9",0,12],)"
    R"([5,"a2","1-cdd832d6cadd4acceb139f08fa97ca2e93999751",0,12],)"
    R"([6,"a3","1-02b171d77719561355eac2970d658776daa6ab3d",0,12],)"
    R"([7,"a4","1-20cbd418ab17fd7151cccd7989823cf3c17fe855",0,12],)"
    R"([8,"a5","1-4659b96aeefa53a69ada2c3e3dc411468d2a3b8e",0,12],)"
    R"([9,"big","1-b34bbad915b04b0026dc55f8f75bcdca72bdd097",0,40016]])";

// push.jsonl, c2s message 2 (proposeChanges, conflictIncludesRev=true), verbatim.
const std::string kPushPropose =
    R"([["a1","1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9","",12],)"
    R"(["a2","1-cdd832d6cadd4acceb139f08fa97ca2e93999751","",12],)"
    R"(["a3","1-02b171d77719561355eac2970d658776daa6ab3d","",12],)"
    R"(["a4","1-20cbd418ab17fd7151cccd7989823cf3c17fe855","",12],)"
    R"(["a5","1-4659b96aeefa53a69ada2c3e3dc411468d2a3b8e","",12],)"
    R"(["big","1-b34bbad915b04b0026dc55f8f75bcdca72bdd097","",40016]])";

// bidi.jsonl, c2s message 2: proposals that name the rev the peer is believed to have.
const std::string kBidiPropose =
    R"([["a1","2-3e1a932fa786def38dfaa09c8aa135cdfcae8f09","1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9",24],)"
    R"(["a2","2-97b608f4460d0eefc4261db0d89d1c2178e66bd4","1-cdd832d6cadd4acceb139f08fa97ca2e93999751",2]])";

const property_list kReplyProps = {{"maxHistory", "50"}, {"blobs", "true"}, {"deltas", "true"}};

}  // namespace

// ---- checkpoints -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_checkpoint_from_capture) {
  // push.jsonl c2s 1: getCheckpoint with the client's checkpoint ID.
  auto m = request({{"Profile", "getCheckpoint"}, {"client", "cp-GvDu3FhguKVJfNlz33lSeuXzTpM="}});
  auto r = get_checkpoint_request::decode(m);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->client == "cp-GvDu3FhguKVJfNlz33lSeuXzTpM=");
  BOOST_TEST((r->encode().properties == m.properties));
  // pull.jsonl s2c 1: the reply carries rev 1-cc and the checkpoint saved by the push.
  auto rep =
      get_checkpoint_reply::decode(reply({{"rev", "1-cc"}}, R"({"time":1795690828,"local":6})"));
  BOOST_REQUIRE(rep.has_value());
  BOOST_TEST(rep->rev == "1-cc");
  BOOST_TEST(*rep->body.time == 1795690828);
  BOOST_TEST(rep->body.local == "6");
  BOOST_TEST(rep->body.remote.empty());
  BOOST_TEST(rep->encode(7).body == R"({"time":1795690828,"local":6})");
}

BOOST_AUTO_TEST_CASE(get_checkpoint_404_is_not_found) {
  // push.jsonl s2c 1: ERR Error-Domain HTTP, Error-Code 404 = no checkpoint yet.
  auto r = get_checkpoint_reply::decode(make_error_reply(1, "HTTP", 404, ""));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.err().code == errc::not_found);
  BOOST_TEST(contains(r.err().message, "HTTP/404"));
}

BOOST_AUTO_TEST_CASE(set_checkpoint_from_capture) {
  // push.jsonl c2s 9: a new checkpoint travels with rev="".
  auto first = set_checkpoint_request::decode(request(
      {{"Profile", "setCheckpoint"}, {"client", "cp-GvDu3FhguKVJfNlz33lSeuXzTpM="}, {"rev", ""}},
      R"({"time":1795690828,"local":6})"));
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(first->rev.empty());
  BOOST_TEST(!first->encode().has_property("rev"));
  // bidi.jsonl c2s 7: every field, localCompleted included; re-encodes byte for byte.
  const std::string body =
      R"({"time":1795690831,"local":9,"localCompleted":[0,10,11,1],"remote":10})";
  auto m = request({{"Profile", "setCheckpoint"},
                    {"client", "cp-GvDu3FhguKVJfNlz33lSeuXzTpM="},
                    {"rev", "5-cc"}},
                   body);
  auto r = set_checkpoint_request::decode(m);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->rev == "5-cc");
  BOOST_TEST(r->body.local_completed == "[0,10,11,1]");
  BOOST_TEST(r->body.remote == "10");
  message again = r->encode();
  BOOST_TEST(again.body == body);
  BOOST_TEST((again.properties == m.properties));
  // bidi.jsonl s2c 7: the reply names the new rev.
  auto rep = set_checkpoint_reply::decode(reply({{"rev", "6-cc"}}));
  BOOST_REQUIRE(rep.has_value());
  BOOST_TEST(rep->rev == "6-cc");
  auto conflict = set_checkpoint_reply::decode(make_error_reply(3, "HTTP", 409, "rev mismatch"));
  BOOST_REQUIRE(!conflict.has_value());
  BOOST_TEST(conflict.err().code == errc::conflict);
}

BOOST_AUTO_TEST_CASE(checkpoint_opaque_sequences) {
  auto cp = checkpoint::from_json(R"({"local":12,"remote":"3:17","x":true})");
  BOOST_REQUIRE(cp.has_value());
  BOOST_TEST(cp->remote == R"("3:17")");
  BOOST_TEST(!cp->time.has_value());
  BOOST_TEST(cp->to_json() == R"({"local":12,"remote":"3:17"})");
  BOOST_TEST(*sequence_to_u64("17") == 17u);
  BOOST_TEST(!sequence_to_u64(R"("17")").has_value());
  BOOST_TEST(!sequence_to_u64("017").has_value());
  BOOST_TEST(sequence_from_u64(18446744073709551615ull) == "18446744073709551615");
}

// ---- subChanges / changes --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sub_changes_from_capture) {
  // bidi.jsonl c2s 3.
  auto m = request({{"Profile", "subChanges"},
                    {"since", "9"},
                    {"batch", "200"},
                    {"sendReplacementRevs", "1"},
                    {"versioning", "rev-trees"},
                    {"revocations", "true"}});
  auto r = sub_changes_request::decode(m);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->since == "9");
  BOOST_TEST(r->batch == 200u);
  BOOST_TEST(r->send_replacement_revs);
  BOOST_TEST(r->revocations);
  BOOST_TEST(!r->continuous);
  BOOST_TEST((r->encode().properties == m.properties));
  sub_changes_request ids;
  ids.continuous = true;
  ids.since = R"("3:17")";
  ids.doc_ids = {"a", "b\"c"};
  message e = ids.encode();
  BOOST_TEST(e.property("since") == "3:17");
  BOOST_TEST(e.body == R"({"docIDs":["a","b\"c"]})");
  auto back = sub_changes_request::decode(e);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->since == R"("3:17")");
  BOOST_TEST(back->continuous);
  BOOST_TEST((back->doc_ids == ids.doc_ids));
}

BOOST_AUTO_TEST_CASE(changes_from_capture_reencodes_byte_for_byte) {
  auto m = request({{"Profile", "changes"}}, kPullChanges);
  auto r = changes_request::decode(m);
  BOOST_REQUIRE(r.has_value());
  BOOST_REQUIRE_EQUAL(r->entries.size(), 9u);
  BOOST_TEST(r->entries[0].sequence == "1");
  BOOST_TEST(r->entries[8].doc_id == "big");
  BOOST_TEST(r->entries[8].rev_id == "1-b34bbad915b04b0026dc55f8f75bcdca72bdd097");
  BOOST_TEST(r->entries[8].body_size == 40016u);
  BOOST_TEST(!r->entries[3].deleted);
  message again = r->encode();
  BOOST_TEST(again.body == kPullChanges);
  BOOST_TEST((again.urgent && again.compressed && !again.no_reply));  // flags 0x18
  // pull.jsonl s2c 2: the caught-up marker `[]` is sent urgent + no-reply (flags 0x30).
  message caught_up = changes_request{}.encode();
  BOOST_TEST(caught_up.body == "[]");
  BOOST_TEST((caught_up.urgent && caught_up.no_reply && !caught_up.compressed));
}

BOOST_AUTO_TEST_CASE(changes_entry_variants) {
  auto r = changes_request::decode(request(
      {{"Profile", "changes"}, {"collection", "2"}},
      R"([["12:3","d1","2-ab",1],[7,"d2","3-cd",true,99],[8,"d3","1-ef",null],[9,"d4","1-aa"]])"));
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r->collection == 2u);
  BOOST_TEST(r->entries[0].sequence == R"("12:3")");
  BOOST_TEST(r->entries[0].deleted);
  BOOST_TEST(r->entries[1].deleted);
  BOOST_TEST(r->entries[1].body_size == 99u);
  BOOST_TEST(!r->entries[2].deleted);
  BOOST_TEST(!r->entries[3].deleted);
}

BOOST_AUTO_TEST_CASE(changes_reply_from_capture) {
  // pull.jsonl c2s reply 1: the first 3 of 9 wanted with no known ancestors, the rest omitted.
  auto r = changes_reply::decode(reply(kReplyProps, "[[],[],[]]"));
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->max_history == 50u);
  BOOST_TEST((r->blobs && r->deltas));
  BOOST_TEST((r->wants(0) && r->wants(2)));
  BOOST_TEST((!r->wants(3) && !r->wants(8)));
  BOOST_TEST(r->encode(1).body == "[[],[],[]]");
  // bidi.jsonl c2s reply 1: the receiver has the parent of the offered rev.
  const std::string with_ancestor = R"([["1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9"]])";
  auto a = changes_reply::decode(reply(kReplyProps, with_ancestor));
  BOOST_REQUIRE(a.has_value());
  BOOST_REQUIRE_EQUAL(a->entries[0].known_ancestors.size(), 1u);
  message again = a->encode(1);
  BOOST_TEST(again.body == with_ancestor);
  BOOST_TEST((again.properties == kReplyProps));
  // Middle not-wanted entries are 0 (null accepted too); trailing ones are dropped.
  changes_reply mixed;
  mixed.entries = {{false, {}}, {true, {"1-a"}}, {false, {}}, {true, {}}, {false, {}}};
  BOOST_TEST(mixed.encode(1).body == R"([0,["1-a"],0,[]])");
  auto n = changes_reply::decode(reply({}, R"([null,[],false,0])"));
  BOOST_REQUIRE(n.has_value());
  BOOST_TEST((!n->wants(0) && n->wants(1) && !n->wants(2) && !n->wants(3)));
  BOOST_TEST((!n->blobs && !n->deltas));
}

// ---- proposeChanges --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(propose_changes_from_capture_reencodes_byte_for_byte) {
  for (const std::string* body : {&kPushPropose, &kBidiPropose}) {
    auto m = request({{"Profile", "proposeChanges"}, {"conflictIncludesRev", "true"}}, *body);
    auto r = propose_changes_request::decode(m);
    BOOST_REQUIRE(r.has_value());
    message again = r->encode();
    BOOST_TEST(again.body == *body);
    BOOST_TEST((again.properties == m.properties));
    BOOST_TEST((again.urgent && again.compressed));
  }
  auto b = propose_changes_request::decode(request({{"Profile", "proposeChanges"}}, kBidiPropose));
  BOOST_TEST(b->entries[0].server_rev_id == "1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9");
  BOOST_TEST(b->entries[1].body_size == 2u);
}

BOOST_AUTO_TEST_CASE(propose_changes_reply_from_capture) {
  // push.jsonl s2c 2: `[]` = send every proposed rev.
  auto all = propose_changes_reply::decode(reply(kReplyProps, "[]"));
  BOOST_REQUIRE(all.has_value());
  BOOST_TEST(all->status_of(5) == 0);
  // bidi.jsonl s2c 2: a1 conflicts (with the peer's current rev), a2 is implied 0.
  const std::string body = R"([{"status":409,"rev":"2-bfaf3e1eee7dca81a86d8db2251288432407daca"}])";
  auto r = propose_changes_reply::decode(reply(kReplyProps, body));
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->status_of(0) == 409);
  BOOST_TEST(r->entries[0].current_rev == "2-bfaf3e1eee7dca81a86d8db2251288432407daca");
  BOOST_TEST(r->status_of(1) == 0);
  BOOST_TEST(r->encode(2).body == body);
  propose_changes_reply p;
  p.entries = {{0, {}}, {304, {}}, {409, {}}, {0, {}}};
  BOOST_TEST(p.encode(2).body == "[0,304,409]");
  auto back = propose_changes_reply::decode(p.encode(2));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((back->status_of(1) == 304 && back->status_of(2) == 409 && back->status_of(3) == 0));
}

// ---- rev / norev -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rev_from_capture_keeps_property_order) {
  // bidi.jsonl c2s 4: a deletion pushed with its history.
  auto m = request({{"Profile", "rev"},
                    {"id", "a2"},
                    {"rev", "2-97b608f4460d0eefc4261db0d89d1c2178e66bd4"},
                    {"sequence", "11"},
                    {"noconflicts", "1"},
                    {"deleted", "1"},
                    {"history", "1-cdd832d6cadd4acceb139f08fa97ca2e93999751"}},
                   "{}");
  auto r = rev_message::decode(m);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->doc_id == "a2");
  BOOST_TEST(r->sequence == "11");
  BOOST_TEST((r->deleted && r->no_conflicts));
  BOOST_REQUIRE_EQUAL(r->history.size(), 1u);
  message again = r->encode();
  BOOST_TEST((again.properties == m.properties));
  BOOST_TEST(again.body == "{}");
  // pull.jsonl s2c 3: a plain rev, moved out of the message.
  message p = request({{"Profile", "rev"},
                       {"id", "b1"},
                       {"rev", "1-7dcdf133b7f91ae68c7ab98c79d78493ab71bf34"},
                       {"sequence", "1"}},
                      R"({"n":1,"from":"b"})");
  auto moved = rev_message::decode(std::move(p));
  BOOST_REQUIRE(moved.has_value());
  BOOST_TEST(moved->body == R"({"n":1,"from":"b"})");
  BOOST_TEST((!moved->deleted && moved->history.empty()));
}

BOOST_AUTO_TEST_CASE(rev_history_and_options_round_trip) {
  rev_message r;
  r.doc_id = "doc \xC3\xA9";
  r.rev_id = "3-cc";
  r.sequence = R"("5:9")";
  r.history = {"2-bb", "1-aa"};
  r.replaced_rev = "2-zz";
  r.deleted_branch = true;
  r.collection = 1;
  r.body = R"({"k":[1,2]})";
  message m = rev_message(r).encode();
  BOOST_TEST(m.property("history") == "2-bb,1-aa");
  BOOST_TEST(m.property("sequence") == "5:9");
  auto back = rev_message::decode(m);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((back->history == r.history));
  BOOST_TEST(back->sequence == r.sequence);
  BOOST_TEST(back->replaced_rev == "2-zz");
  BOOST_TEST(back->deleted_branch);
  BOOST_TEST(*back->collection == 1u);
  BOOST_TEST(back->body == r.body);
}

BOOST_AUTO_TEST_CASE(norev_round_trip) {
  norev_message n{"d", "2-ab", "42", 404, "missing", std::nullopt};
  message m = n.encode();
  BOOST_TEST(m.no_reply);
  auto back = norev_message::decode(m);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((back->doc_id == "d" && back->rev_id == "2-ab" && back->sequence == "42"));
  BOOST_TEST((back->error == 404 && back->reason == "missing"));
}

// ---- attachments and collections -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(attachments_round_trip_and_proof) {
  get_attachment_request g{"sha1-abc=", "doc", true, std::nullopt};
  auto gb = get_attachment_request::decode(g.encode());
  BOOST_REQUIRE(gb.has_value());
  BOOST_TEST((gb->digest == "sha1-abc=" && gb->doc_id == "doc" && gb->compress));
  prove_attachment_request p{"sha1-abc=", "nonce", std::nullopt};
  auto pb = prove_attachment_request::decode(p.encode());
  BOOST_REQUIRE(pb.has_value());
  BOOST_TEST(pb->nonce == "nonce");
  // python3: base64(sha1(bytes([5]) + b"nonce" + b"hello blob"))
  BOOST_TEST(attachment_proof("nonce", "hello blob") == "sha1-xYyEoQUpHLjF4C0QjTxCZgpJhsE=");
  p.nonce = std::string(256, 'n');
  BOOST_TEST(contains(failure(prove_attachment_request::decode(p.encode())), "1..255"));
  p.nonce.clear();
  BOOST_TEST(contains(failure(prove_attachment_request::decode(p.encode())), "0 bytes"));
}

BOOST_AUTO_TEST_CASE(get_collections_round_trip) {
  get_collections_request q{{"cp-1", "cp-2", "cp-3"}, {"_default._default", "s.a", "s.b"}};
  BOOST_TEST(
      q.encode().body ==
      R"({"checkpoint_ids":["cp-1","cp-2","cp-3"],"collections":["_default._default","s.a","s.b"]})");
  auto qb = get_collections_request::decode(q.encode());
  BOOST_REQUIRE(qb.has_value());
  BOOST_TEST((qb->collections == q.collections));
  get_collections_reply r;
  r.entries.resize(3);
  r.entries[0].st = get_collections_reply::state::found;
  r.entries[0].rev = "2-cc";
  r.entries[0].body.local = "5";
  r.entries[2].st = get_collections_reply::state::missing;
  BOOST_TEST(r.encode(1).body == R"([{"rev":"2-cc","local":5},{},null])");
  auto rb = get_collections_reply::decode(reply({}, r.encode(1).body));
  BOOST_REQUIRE(rb.has_value());
  BOOST_TEST((rb->entries[0].st == get_collections_reply::state::found));
  BOOST_TEST(rb->entries[0].rev == "2-cc");
  BOOST_TEST(rb->entries[0].body.local == "5");
  BOOST_TEST((rb->entries[1].st == get_collections_reply::state::none));
  BOOST_TEST((rb->entries[2].st == get_collections_reply::state::missing));
  auto uneven = get_collections_request::decode(
      request({{"Profile", "getCollections"}}, R"({"checkpoint_ids":["a"],"collections":[]})"));
  BOOST_TEST(contains(failure(uneven), "differ in length"));
}

// ---- malformed input -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(malformed_bodies_fail_clearly) {
  auto changes = [](std::string body) {
    return changes_request::decode(request({{"Profile", "changes"}}, std::move(body)));
  };
  BOOST_TEST(contains(failure(changes("[[1,\"d\",\"1-a\"]")), "invalid JSON"));
  BOOST_TEST(contains(failure(changes("[[1,\"\xFF\",\"1-a\"]]")), "invalid JSON"));  // bad UTF-8
  BOOST_TEST(contains(failure(changes("{}")), "not a JSON array"));
  BOOST_TEST(contains(failure(changes("[[1,\"d\"]]")), "entry 0"));
  BOOST_TEST(contains(failure(changes("[[1,\"d\",\"1-a\"],[2,3,\"1-a\"]]")), "entry 1: docID"));
  BOOST_TEST(contains(failure(changes("[[1,\"d\",\"abc\"]]")), "revID"));
  BOOST_TEST(contains(failure(changes("[[1,\"d\",\"1-a\",\"yes\"]]")), "deleted"));
  BOOST_TEST(contains(failure(changes("[[1,\"d\",\"1-a\",0,-5]]")), "bodySize"));
  BOOST_TEST(contains(failure(changes("[[null,\"d\",\"1-a\"]]")), "sequence"));
  BOOST_TEST(contains(failure(changes("")), "invalid JSON"));
  auto cr = [](std::string body) { return changes_reply::decode(reply({}, std::move(body))); };
  BOOST_TEST(contains(failure(cr("[1]")), "neither"));
  BOOST_TEST(contains(failure(cr("[[3]]")), "ancestor"));
  auto pr = [](std::string body) {
    return propose_changes_reply::decode(reply({}, std::move(body)));
  };
  BOOST_TEST(contains(failure(pr("[7]")), "out of range"));
  BOOST_TEST(contains(failure(pr(R"([{"rev":"1-a"}])")), "status"));
  BOOST_TEST(contains(failure(pr(R"([{"status":409,"rev":5}])")), "rev"));
  BOOST_TEST(contains(failure(pr("[\"x\"]")), "neither"));
  BOOST_TEST(contains(failure(checkpoint::from_json("[1]")), "not a JSON object"));
  BOOST_TEST(contains(failure(checkpoint::from_json(R"({"time":"now"})")), "time"));
  BOOST_TEST(contains(failure(checkpoint::from_json(R"({"localCompleted":3})")), "localCompleted"));
}

BOOST_AUTO_TEST_CASE(malformed_properties_fail_clearly) {
  auto rev = [](property_list props, std::string body = "{}") {
    props.insert(props.begin(), {"Profile", "rev"});
    return rev_message::decode(request(std::move(props), std::move(body)));
  };
  BOOST_TEST(contains(failure(rev({{"rev", "1-a"}})), "missing property id"));
  BOOST_TEST(contains(failure(rev({{"id", "d"}, {"rev", "x"}})), "rev is not a valid"));
  BOOST_TEST(contains(failure(rev({{"id", "\xC3"}, {"rev", "1-a"}})), "not UTF-8"));
  BOOST_TEST(
      contains(failure(rev({{"id", "d"}, {"rev", "1-a"}, {"deleted", "maybe"}})), "deleted"));
  BOOST_TEST(
      contains(failure(rev({{"id", "d"}, {"rev", "2-a"}, {"history", "1-a,,0-b"}})), "history"));
  BOOST_TEST(contains(failure(rev({{"id", "d"}, {"rev", "1-a"}}, "[1]")), "not a JSON object"));
  BOOST_TEST(contains(failure(rev({{"id", "d"}, {"rev", "1-a"}}, "{\"a\":")), "invalid JSON"));
  BOOST_TEST(
      contains(failure(rev({{"id", "d"}, {"rev", "1-a"}, {"collection", "-1"}})), "collection"));
  BOOST_TEST(contains(failure(rev({{"id", "d"}, {"rev", "1-a"}, {"deltaSrc", "1-z"}})), "delta"));
  auto wrong = rev_message::decode(request({{"Profile", "norev"}}));
  BOOST_TEST(contains(failure(wrong), "wrong Profile 'norev'"));
  message as_reply = reply({{"Profile", "rev"}});
  BOOST_TEST(contains(failure(rev_message::decode(as_reply)), "expected a request"));
  auto sub = sub_changes_request::decode(request({{"Profile", "subChanges"}, {"batch", "lots"}}));
  BOOST_TEST(contains(failure(sub), "batch"));
  auto vv = sub_changes_request::decode(
      request({{"Profile", "subChanges"}, {"versioning", "version-vectors"}}));
  BOOST_TEST(contains(failure(vv), "unsupported versioning"));
  BOOST_TEST(
      contains(failure(get_checkpoint_request::decode(request({{"Profile", "getCheckpoint"}}))),
               "missing property client"));
  auto as_request = set_checkpoint_reply::decode(request({{"rev", "1-cc"}}));
  BOOST_TEST(contains(failure(as_request), "expected a reply"));
}

BOOST_AUTO_TEST_CASE(big_body_then_small_bodies_still_decode) {
  // A 3 MiB document grows the per-thread parser; the next small decodes shrink it and work.
  std::string big = R"({"blob":")" + std::string(3 << 20, 'x') + R"("})";
  auto r = rev_message::decode(request({{"Profile", "rev"}, {"id", "d"}, {"rev", "1-a"}}, big));
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->body.size() == big.size());
  auto c = changes_request::decode(request({{"Profile", "changes"}}, R"([[1,"d","1-a",0,2]])"));
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->entries[0].body_size == 2u);
}
