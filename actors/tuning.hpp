// Every wait and bound of the actor layer, in one place (STYLE.md §6, §8). Each value says why.
// Protocol-level numbers (frame sizes, ACK thresholds, caps) live in protocol/tuning.hpp.
#pragma once

#include <chrono>
#include <cstddef>

namespace peerlite::actors {

using namespace std::chrono_literals;

// --- runtime (CONN) ---

/// How long process exit waits for the shared actor system to shut down before leaving it
/// behind. An app whose send() blocks forever must not hang its process's exit.
constexpr auto kSystemShutdownTimeout = 2s;

// --- connection actor (CONN) ---

/// The close handshake (PROTOCOL.md §2): how long we wait for the peer's close acknowledgement
/// and, separately, for the app's close completion, before reporting the connection closed.
/// A completion that is never called must not hang stop() / close_all().
constexpr auto kCloseTimeout = 5s;

/// How long the app's open() may take before we give up with a recoverable error (an active
/// replicator then retries through a new connection). Generous: real transports handshake.
constexpr auto kOpenTimeout = 30s;

/// How long a graceful close waits for already-queued frames (e.g. the last rev replies) to
/// drain to the app before closing anyway.
constexpr auto kCloseDrainTimeout = 5s;

/// How long the owner may take to answer one incoming request (the db actor's group commit of
/// a rev included) before the peer gets ERR BLIP/501. Large because a commit can queue behind
/// thousands of revisions on a slow disk; a dead owner is caught by monitoring, not by this.
constexpr auto kIncomingRequestTimeout = 120s;

/// Write credit: bytes handed to the app's send() whose completion has not arrived yet. Beyond
/// this, frames wait in the session's outbox. 1 MiB keeps a fast in-process pipe busy (about
/// 64 frames of 16 KiB) while bounding memory per connection to a few MiB.
constexpr std::size_t kMaxBytesInFlight = 1 << 20;

/// zlib level for the messages replication sends compressed (change lists and their replies,
/// PROTOCOL.md §3). Level 1 instead of zlib's default 6: deflating the lists was the largest
/// single cost of pushing small documents in-process (callgrind, push_inproc of 20,000 docs:
/// 263M instructions at level 6, 146M at level 1), and any inflater reads any level.
constexpr int kReplicationDeflateLevel = 1;

/// BYTE_STREAM only: frames wrapped in WebSocket messages are coalesced into one app send() up
/// to this many bytes, so a byte pipe sees fewer, larger writes.
constexpr std::size_t kMaxCoalescedSend = 64 * 1024;

/// BYTE_STREAM only: a WebSocket PING is sent after this long without traffic (the replicator's
/// `heartbeat` default, PROTOCOL.md §2); 0 disables.
constexpr auto kDefaultHeartbeat = 300s;

/// BYTE_STREAM only: how long we wait for the PONG to a PING before closing with 1006
/// (abnormal, transient).
constexpr auto kPongTimeout = 20s;

// --- listener actor (CONN) ---

/// How long a listener request from a public handle (accept, connections, close_all) may take.
/// These are mailbox round trips only; a long wait means the system is overloaded.
constexpr auto kListenerRequestTimeout = 10s;

/// close_all() waits for every connection's close; each is bounded by kCloseTimeout plus the
/// drain, so this bound only guards against a lost message.
constexpr auto kCloseAllTimeout = kCloseTimeout + kCloseDrainTimeout + kCloseTimeout + 5s;

// --- replication (REPL): append below ---

/// Group commit caps (db actor): one transaction takes every queued insert up to these. SQLite's
/// per-transaction cost dominates small batches (62k rows/s at 100 per transaction, 245k at
/// 10,000 on this machine), so the cap is large; 16 MiB bounds the memory a round holds.
constexpr std::size_t kGroupCommitMaxRevs = 20000;
constexpr std::size_t kGroupCommitMaxBytes = 16 << 20;

/// How long a worker waits for the db actor to answer (a group commit included). Generous: a
/// commit may queue behind many others on a slow disk; a dead db actor is a bug, not a wait.
constexpr auto kDbRequestTimeout = 120s;

/// Entries per proposeChanges / changes message (PROTOCOL.md §3: batches of 200).
constexpr std::size_t kChangesBatchSize = 200;

/// CAF worker threads: one per hardware thread, at least this many (so one worker blocked in
/// a SQLite commit leaves another running). CAF's own default is max(hw threads, 4); on a
/// 2-core machine the 2 extra workers only add polling and context switches (see runtime.cpp).
constexpr std::size_t kMinSchedulerThreads = 2;

/// Poll attempts with a 50 us sleep each before an idle worker waits on its condition
/// variable (CAF's default: 500, i.e. 25 ms of sleep/wake cycles every time a worker runs dry).
constexpr std::size_t kModeratePollAttempts = 10;

/// How long an idle worker waits on its condition variable before it looks for work to steal
/// from a busy worker's queue (CAF's default: 10 ms, i.e. 100 wake-ups a second per idle
/// worker, most of an idle process's CPU). Work sent from outside the scheduler wakes a
/// worker at once; only work queued behind a busy worker waits up to this long for another.
/// 100 ms left each idle worker at ~11 wake-ups a second, 0.14% of a core for two; with 1 s
/// (and the watch and stop-signal threads no longer polling) an idle hub used 0.034% of a core
/// and an idle continuous peer 0.068% (bench idle_cpu, 2026-12-06; 0.215% and 0.280% before).
/// push_inproc, pull_inproc, push_tcp, push_ws and pull_ws moved by -9% to +8% in the same
/// session, within this machine's run-to-run noise.
constexpr auto kRelaxedSleep = std::chrono::milliseconds(1000);

/// A pusher limited to at most this many document ids finds their changes by id lookups
/// instead of scanning the whole feed and filtering (store::reader::changes_of). Above it a
/// scan in sequence order reads fewer rows than the lookups would.
constexpr std::size_t kDocIdLookupMax = 1000;

/// proposeChanges / changes lists awaiting the peer's answer. The reference allows 5; more keep
/// the pipe full when the peer answers quickly in-process (each list is only ~10 KiB).
constexpr std::size_t kMaxChangeListsInFlight = 8;

/// `rev` messages sent and not yet replied to. The reference's 10 revs / 2 MiB caps a
/// low-latency pipe at a few thousand docs/s; the peer's group commit wants thousands of revs
/// queued at once, so we allow a few commits' worth, bounded by bytes for big documents.
constexpr std::size_t kMaxRevsInFlight = 6000;
constexpr std::size_t kMaxRevBytesInFlight = 16 << 20;
/// Both are per connection: a session's pushers (one per collection) share them. Each keeps at
/// least this many revs in flight (the reference's window), so a session of more than
/// kMaxRevsInFlight / kMinRevsInFlight (600) collections may have more than kMaxRevsInFlight.
constexpr std::size_t kMinRevsInFlight = 10;

/// A peer's requests a connection holds unanswered before it closes the connection
/// (connection_options::max_unreplied_requests). An honest peerlite peer has at most
/// kMaxRevsInFlight revs (all collections together) plus kMaxChangeListsInFlight lists per
/// collection and a few control requests unanswered; Couchbase Lite about 10 revs and 5
/// lists. Each held request costs its message (a rev's body) in the worker's mailbox.
constexpr std::size_t kMaxUnrepliedRequests = 16384;

/// Revisions a passive connection remembers its peer pushed (actors::pushed_revs) before it
/// forgets them all; each is dropped as soon as a pusher's feed reaches it, and all of them
/// when the connection is idle with no pusher. What a forgotten one costs is one entry of a
/// `changes` list the peer answers "have it".
constexpr std::size_t kMaxPushedRevs = 4096;

/// `rev`s handed to the connection actor in one actor message (each still its own BLIP
/// request). One mailbox trip per rev each way was a large share of a 200-byte document's
/// cost; the size of a changes list keeps a batch's replies (which come back together) to
/// about one of the peer's group commits.
constexpr std::size_t kRevBatchSize = 200;

/// How long we wait for the peer to answer one request (proposeChanges, changes, rev,
/// checkpoints). A rev reply waits on the peer's commit, so this is generous; a dead peer is
/// noticed by the transport closing, this only guards against a silent one.
constexpr auto kPeerRequestTimeout = 120s;

/// Checkpoints are saved this long after progress (PROTOCOL.md §4), and at once on idle/stop.
constexpr auto kCheckpointSaveDelay = 5s;

/// Status reports go out at most this often (plus always the final one).
constexpr auto kStatusInterval = 200ms;

/// Workers report progress to their replicator at most this often (activity changes go at
/// once): per-document messages upward would cost more than the documents themselves.
constexpr auto kWorkerReportInterval = 50ms;

/// Revisions just pulled that a push-and-pull pusher remembers so as not to offer them back to
/// the same peer (each would only earn a 304). Bounds the memory of a long continuous run.
constexpr std::size_t kMaxSkippedRevs = 100000;

/// History sent with each rev (the receiver's maxHistory default, PROTOCOL.md §3).
constexpr std::size_t kMaxRevHistory = 50;

/// Ancestors offered per missing revision in a `changes` reply.
constexpr std::size_t kMaxKnownAncestors = 10;

/// Default connection attempts of a one-shot replicator (continuous: unlimited).
constexpr unsigned kDefaultMaxAttemptsOneShot = 10;

/// stop() and the destructor reach STOPPED within this even if the connection never reports
/// closed (it is itself bounded by kCloseTimeout + kCloseDrainTimeout).
constexpr auto kStopTimeout = kCloseTimeout + kCloseDrainTimeout + 2s;

/// Idle reader connections a database keeps for reuse; readers returned beyond this are
/// closed. Workers hold a reader only while one handler runs, so about one per scheduler
/// thread is ever busy at once (4 on this machine) plus the app's own reads; each idle one
/// costs a file handle and up to store::kReaderCacheSizeKiB of page cache.
constexpr std::size_t kMaxIdleReaders = 8;

/// Conflicts left unresolved by an earlier run that an active puller resolves when it starts
/// (resolve_existing_conflicts); any beyond are resolved at the next start. Each is one
/// resolution request to the writer, queued at once.
constexpr std::size_t kMaxConflictsResolvedAtStart = 1000;

/// Times a puller decides a conflict again when the document changed between its read and
/// the resolution's write (the pusher resolved it first, or the app edited it).
constexpr int kResolveAttempts = 3;

/// Blob fetches (getAttachment) a puller runs at once; further missing blobs wait in FIFO
/// order and start as earlier fetches finish (stored or failed). Without a bound every missing
/// blob of every rev in the window started at once: a pull of 1,000 x 20 KB blobs had 872
/// requests in flight, each reply body held in memory until stored, and the peer reading and
/// sending them all at once while the revs' own replies waited behind them. 8 keeps the pipe
/// busy (each reply is one or more full frames) while bounding memory to a few blobs.
constexpr std::size_t kMaxBlobFetches = 8;

/// How long a public database call waits for the db actor.
constexpr auto kDatabaseCallTimeout = 120s;

/// How often a db actor's watch thread checks SQLite's data_version for commits by other
/// connections (another process's `peerlite put` on a file that `peerlite serve` has open) while
/// someone listens for changes (a continuous pusher or an app change listener). Such commits
/// never pass through the actor, so without the check nothing wakes its continuous pushers
/// (issue 10: over 57 s observed). 50 ms keeps the notice within the 100 ms required; a check
/// costs one PRAGMA (about 7 us on the 2-core VM) on a plain thread, which wakes the actor
/// only when the file changed, and nothing runs while nobody listens. With inotify (the usual
/// case) this is the shortest gap between two checks while the files are being written; with
/// no writes there are no checks but the backstop's.
constexpr auto kExternalCommitPollInterval = 50ms;
/// With inotify: a check this often even when no write was seen (a file system that reports
/// none), so an external commit is noticed within this time at worst.
constexpr auto kExternalCommitBackstop = 2000ms;
/// How soon a check for other connections' commits that could not read the database (a
/// shared store reconnecting) is tried again.
constexpr auto kExternalCommitRetry = 500ms;
/// How soon a hub's pusher whose store could not be read for now (a shared store down or
/// reconnecting) reads its feed and its next revision again, keeping the peer's connection.
constexpr auto kStoreRetryDelay = 500ms;
/// PostgreSQL: how often a watch whose notification connection dropped tries to listen again
/// (it polls every kExternalCommitPollInterval meanwhile).
constexpr auto kCommitListenRetry = 2000ms;

}  // namespace peerlite::actors
