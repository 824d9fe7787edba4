'use strict';
// The scenarios of `npm run bench`, in the order they run (see README.md here).
module.exports = [
  require('./generator'), // the load generator's own ceiling and knee, before anything else
  require('./ceilings'), // the parts alone: bare Nest route, PostgreSQL, Bull, undici, attempt writes
  require('./ingest'), // API only: single-event ingest (max, at 80 %, sustained knee), batch ingest
  require('./drain'), // the worker starts: drain, the limiter's cost
  require('./e2e'), // end to end, fan-out, throttled neighbour
  require('./slow-receivers'),
  require('./hot-endpoint'),
  require('./inbound'),
  require('./scale'), // opt-in (--only scale): worker processes 1, 2, 4 on a single Redis and on a Redis Cluster
];
