'use strict';
// Summarises a .cpuprofile (self time) or a .heapprofile (bytes allocated) by function and by package/file.
// `node bench/prof-summary.js file [top]`
const fs = require('node:fs');

/** The package (node_modules), Herald file (dist/) or Node module a frame belongs to. */
function whereOf(cf) {
  const url = cf.url || '';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m ? m[1] : url.includes('/dist/') ? `herald:${url.split('/dist/')[1]}` : url.startsWith('node:') ? url : url ? url.split('/').slice(-2).join('/') : `(${cf.functionName || 'native'})`;
}

function summarise(file, top = 25) {
  if (file.endsWith('.heapprofile')) return summariseHeap(file, top);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) || 0) + (dt[i] || 0));
  const total = dt.reduce((a, b) => a + b, 0);
  const fn = new Map();
  const pkg = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const where = whereOf(cf);
    const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) || 0) + us);
    pkg.set(where, (pkg.get(where) || 0) + us);
  }
  const rows = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  return `${file}: ${(total / 1e6).toFixed(1)} s sampled\n-- by package/file --\n${rows(pkg).join('\n')}\n-- by function --\n${rows(fn).join('\n')}\n`;
}

/** Summarises a .heapprofile (sampled allocations): bytes allocated by function and by package/file. */
function summariseHeap(file, top = 25) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const fn = new Map();
  const pkg = new Map();
  let total = 0;
  const visit = (node) => {
    const cf = node.callFrame;
    const where = whereOf(cf);
    const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) || 0) + node.selfSize);
    pkg.set(where, (pkg.get(where) || 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children || []) visit(child);
  };
  visit(profile.head);
  const rows = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, bytes]) => `${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${(bytes / 1e6).toFixed(0).padStart(6)} MB  ${k}`);
  return `${file}: ${(total / 1e6).toFixed(0)} MB allocated (sampled)\n-- by package/file --\n${rows(pkg).join('\n')}\n-- by function --\n${rows(fn).join('\n')}\n`;
}

if (require.main === module) process.stdout.write(summarise(process.argv[2], Number(process.argv[3] || 25)));
module.exports = { summarise };
