// The PouchDB side's HTTP server for `peerlite-bench --vs-pouchdb`: express-pouchdb (the
// CouchDB HTTP API on top of PouchDB) with every database in memory, listening on 127.0.0.1
// at a port the kernel picks. Once it accepts connections it prints one line on stdout:
//   listening http://127.0.0.1:PORT
// which the benchmark waits for. It runs until it is killed (SIGTERM or SIGKILL).
'use strict';

const express = require('express');
const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

/// Every database the server creates lives in memory (memdown), like the clients' ones.
const MemoryPouchDB = PouchDB.defaults({ adapter: 'memory' });

const app = express();
/// 'minimumForPouchDB' leaves out Fauxton, the replicator daemon, auth, validation and the
/// other CouchDB extras a PouchDB client never calls; inMemoryConfig keeps config.json off disk.
app.use('/', require('express-pouchdb')(MemoryPouchDB, {
  mode: 'minimumForPouchDB',
  inMemoryConfig: true,
  logPath: '/dev/null',
}));

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`server.js: ${err.message}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
