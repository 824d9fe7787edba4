'use strict';
// The scenarios of `npm run bench`, in the order they run (see README.md here).
module.exports = [
  require('./generator'), // the load generator's own ceiling and knee, before anything else
  require('./ceilings'), // the parts alone: bare Nest route, PostgreSQL, Bull, undici, attempt writes
  require('./ingest'), // API only: single-event ingest (max, at 80 %, sustained knee), batch ingest
  require('./filters'), // API only: batch ingest fanning out to 50 endpoints with filters vs without (issue 14)
  require('./drain'), // the worker starts: drain, the limiter's cost
  require('./tracing'), // the drain with OTLP export on vs off (issue 16)
  require('./e2e'), // end to end, fan-out, throttled neighbour
  require('./slow-receivers'),
  require('./hot-endpoint'),
  require('./inbound'),
  require('./replay'), // live end to end beside a 100 000-delivery replay (issue 14)
  require('./stats'), // the console's stats API over a day of 1 M attempts (issue 16)
  require('./in-flight'), // the worker's memory with 10 000 requests in flight (issue 11)
  require('./storage'), // opt-in (--only storage, npm run bench:storage): 10 M attempts, list routes and retention
  require('./scale'), // opt-in (--only scale): worker processes 1, 2, 4 on a single Redis and on a Redis Cluster
];
