// peerlite: the umbrella header. Includes every public header; its comment is the API
// reference's main page.
#pragma once

#include <peerlite/collection.hpp>
#include <peerlite/database.hpp>
#include <peerlite/document.hpp>
#include <peerlite/hub.hpp>
#include <peerlite/listener_token.hpp>
#include <peerlite/message_endpoint.hpp>
#include <peerlite/message_endpoint_listener.hpp>
#include <peerlite/net.hpp>
#include <peerlite/replicator.hpp>
#include <peerlite/status.hpp>

/// \mainpage peerlite API reference
///
/// peerlite replicates document databases between peers with Couchbase Lite's replication
/// protocol (BLIP 3 + CBMobile_3): push, pull or both, once or continuously, resuming from
/// checkpoints, with revision trees, conflict resolution, blobs and collections. Its peers are
/// other peerlite peers and Couchbase Lite 3.x. `#include <peerlite/peerlite.hpp>` brings in
/// the whole API, or include the one header a type lives in. Every fallible call returns a
/// peerlite::status or peerlite::expected (`peerlite/status.hpp`); every handle may be used
/// from any thread, and callbacks run on peerlite's threads.
///
/// \section main_data Documents
/// - peerlite::database (`peerlite/database.hpp`): an open SQLite file; documents, blobs, the
///   changes feed, conflicts.
/// - peerlite::collection (`peerlite/collection.hpp`): one collection of a database
///   (Couchbase Lite 3.x scopes and collections).
/// - peerlite::document and peerlite::blob (`peerlite/document.hpp`): plain values.
///
/// \section main_active Replicating with a peer
/// - peerlite::replicator and peerlite::replicator_config (`peerlite/replicator.hpp`): the
///   active side, keeping a local database in sync with one remote peer.
/// - peerlite::make_url_endpoint (`peerlite/net.hpp`): the endpoint for a ws://, wss://,
///   tcp:// or tls:// URL (a peerlite hub or a Couchbase Lite listener).
///
/// \section main_transport Your own transport: the MessageEndpoint contract
/// `peerlite/message_endpoint.hpp` mirrors Couchbase Lite's MessageEndpoint API. The app
/// implements peerlite::message_endpoint_connection (open, send, close) over its own pipe
/// (Bluetooth, a radio link, a socket) and hands the bytes it receives to the
/// peerlite::replicator_connection that open() gives it. A peerlite::message_endpoint names
/// the peer and the delegate that makes a connection for each connect and retry. On the
/// passive side, peerlite::message_endpoint_listener (`peerlite/message_endpoint_listener.hpp`)
/// serves one database to every connection the app accepts.
///
/// \section main_hub A hub over the network
/// peerlite::hub and peerlite::hub_options (`peerlite/hub.hpp`) serve one database to any
/// number of peers on ws://, wss://, tcp:// and tls:// listeners: what `peerlite serve` runs.
///
/// \section main_link Linking
/// CMake targets (`find_package(peerlite)`, or `add_subdirectory` / `FetchContent`):
/// - `peerlite::peerlite`: the engine: databases, collections, replicators, message endpoints
///   and listeners.
/// - `peerlite::net`: the hub and URL endpoints (`peerlite/hub.hpp`, `peerlite/net.hpp`);
///   links the engine.

/// \namespace peerlite
/// The public API: every type and function an app uses. (peerlite::actors holds the engine's
/// internals, which no app needs to name.)
