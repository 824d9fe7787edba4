'use strict';
// The load generator's own ceiling is measured against this: a plain Node HTTP server that reads the body
// and answers 202 with a small JSON body, nothing else, so that whatever cannot be held is the generator's.
const http = require('node:http');

const answer = Buffer.from('{"id":"evt_0","deliveryCount":1}');
const server = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': String(answer.length) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
