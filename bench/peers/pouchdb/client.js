// The PouchDB side of `peerlite-bench --vs-pouchdb`: one workload per run, timed inside this
// process, with the result as one JSON line on stdout.
//
//   node client.js versions
//   node client.js memory     DOCS.jsonl
//   node client.js push       DOCS.jsonl http://127.0.0.1:PORT/DB
//   node client.js pull       DOCS.jsonl http://127.0.0.1:PORT/DB
//   node client.js concurrent DOCS.jsonl http://127.0.0.1:PORT/DB CLIENTS
//
// DOCS.jsonl is written by the benchmark: one {"id": ..., "body": {...}} per line; a document
// here is the body with `_id` = id, so both systems store the same IDs and the same bodies.
//
// What is timed (as on the peerlite side): from the start of the replication to its end,
// i.e. to the moment PouchDB reports the one-shot replication complete (every document
// written on the destination and the checkpoint saved). Loading the source database is setup
// and is not timed. Replications use PouchDB's defaults (batch_size 100, batches_limit 10);
// over HTTP the client keeps its connections alive (see keepAliveAgent).
//
// After each run the destination's document count is read (db.info().doc_count) and printed
// as "count"; the benchmark fails the line when it is not the number of documents sent.
'use strict';

const fs = require('fs');
const http = require('http');
const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

/// PouchDB's HTTP client (node-fetch) opens a new TCP connection for every request unless it is
/// given an agent; with this keep-alive agent each client reuses its connections, as peerlite's
/// one WebSocket per replication does. (Measured here: 3,000 docs pushed over 125 connections
/// without it, over 1 with it, in half the time.)
const keepAliveAgent = new http.Agent({ keepAlive: true });

/// The server database at `url`, reached through the keep-alive agent.
function remoteDb(url) {
  return new PouchDB(url, {
    fetch: (target, options) => PouchDB.fetch(target, Object.assign({}, options,
                                                                    { agent: keepAliveAgent })),
  });
}

/// Documents per bulkDocs call while loading a source database (setup). One call with every
/// document is far slower in the memory adapter than calls of this size.
const LOAD_BATCH = 1000;

let nextName = 0;
/// A fresh, empty in-memory database (a new name each time: memdown keeps databases by name).
function memoryDb() {
  return new PouchDB(`bench-${process.pid}-${nextName++}`, { adapter: 'memory' });
}

function readDocs(path) {
  return fs.readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0)
    .map((line) => {
      const { id, body } = JSON.parse(line);
      return Object.assign({ _id: id }, body);
    });
}

async function load(db, docs) {
  for (let i = 0; i < docs.length; i += LOAD_BATCH) {
    const results = await db.bulkDocs(docs.slice(i, i + LOAD_BATCH));
    const failed = results.find((r) => r.error);
    if (failed) throw new Error(`loading ${failed.id}: ${failed.message || failed.error}`);
  }
}

/// Runs `fn` (which returns a promise) and returns its seconds, wall clock.
async function timed(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/// PouchDB.replicate resolves even when some documents failed to write: count those as errors.
async function replicate(source, target) {
  const result = await PouchDB.replicate(source, target);
  if (result.doc_write_failures > 0 || (result.errors && result.errors.length > 0)) {
    throw new Error(`replication wrote ${result.docs_written} docs, ` +
                    `${result.doc_write_failures} failed`);
  }
  return result;
}

function report(workload, docs, seconds, count, extra = {}) {
  process.stdout.write(JSON.stringify(Object.assign({ workload, docs, seconds, count }, extra)) +
                       '\n');
}

/// Two memory databases in this process: A holds the documents, B is empty; A -> B.
async function memory(docsPath) {
  const docs = readDocs(docsPath);
  const a = memoryDb(), b = memoryDb();
  await load(a, docs);
  const seconds = await timed(() => replicate(a, b));
  report('memory', docs.length, seconds, (await b.info()).doc_count);
}

/// A memory database holding the documents pushes them to the (empty) server database.
async function push(docsPath, url) {
  const docs = readDocs(docsPath);
  const local = memoryDb(), remote = remoteDb(url);
  await load(local, docs);
  const seconds = await timed(() => replicate(local, remote));
  report('push', docs.length, seconds, (await remote.info()).doc_count);
}

/// A fresh memory database pulls the server database (which `push` filled).
async function pull(docsPath, url) {
  const docs = readDocs(docsPath);
  const local = memoryDb(), remote = remoteDb(url);
  const held = (await remote.info()).doc_count;
  if (held !== docs.length) throw new Error(`the server holds ${held} docs, not ${docs.length}`);
  const seconds = await timed(() => replicate(remote, local));
  report('pull', docs.length, seconds, (await local.info()).doc_count);
}

/// `clients` memory databases, each holding its own contiguous share of the documents (the
/// last takes the remainder), push to one server database at the same time. The clock runs
/// from just before the first replication starts to when the last one has finished.
async function concurrent(docsPath, url, clients) {
  const docs = readDocs(docsPath);
  const share = Math.floor(docs.length / clients);
  const locals = [];
  for (let c = 0; c < clients; c++) {
    const db = memoryDb();
    await load(db, docs.slice(c * share, c === clients - 1 ? docs.length : (c + 1) * share));
    locals.push(db);
  }
  /// Each client has its own handle on the server database; they share the agent's pool.
  const remotes = locals.map(() => remoteDb(url));
  const seconds = await timed(() => Promise.all(locals.map((db, c) => replicate(db, remotes[c]))));
  report('concurrent', docs.length, seconds, (await remoteDb(url).info()).doc_count, { clients });
}

function versions() {
  process.stdout.write(JSON.stringify({
    node: process.versions.node,
    pouchdb: require('pouchdb/package.json').version,
    pouchdb_adapter_memory: require('pouchdb-adapter-memory/package.json').version,
    express_pouchdb: require('express-pouchdb/package.json').version,
    express: require('express/package.json').version,
  }) + '\n');
}

async function main(argv) {
  const [command, docsPath, url, clients] = argv;
  switch (command) {
    case 'versions': return versions();
    case 'memory': return memory(docsPath);
    case 'push': return push(docsPath, url);
    case 'pull': return pull(docsPath, url);
    case 'concurrent': return concurrent(docsPath, url, Number(clients));
    default: throw new Error(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`client.js ${process.argv[2]}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
