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

/** A profile's amounts (µs or bytes) summed by function and by package/file, printed as the two tables. */
class Tally {
  constructor() {
    this.fn = new Map();
    this.pkg = new Map();
    this.total = 0;
  }

  add(cf, amount) {
    const where = whereOf(cf);
    const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
    this.fn.set(key, (this.fn.get(key) || 0) + amount);
    this.pkg.set(where, (this.pkg.get(where) || 0) + amount);
    this.total += amount;
  }

  report(title, top, unit) {
    const rows = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((100 * v) / this.total).toFixed(1).padStart(5)} %  ${unit(v)}  ${k}`);
    return `${title}\n-- by package/file --\n${rows(this.pkg).join('\n')}\n-- by function --\n${rows(this.fn).join('\n')}\n`;
  }
}

function summarise(file, top = 25) {
  if (file.endsWith('.heapprofile')) return summariseHeap(file, top);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) || 0) + (dt[i] || 0));
  const tally = new Tally();
  for (const [id, us] of self) tally.add(byId.get(id).callFrame, us);
  return tally.report(`${file}: ${(tally.total / 1e6).toFixed(1)} s sampled`, top, (us) => `${(us / 1000).toFixed(0).padStart(6)} ms`);
}

/** Summarises a .heapprofile (sampled allocations): bytes allocated by function and by package/file. */
function summariseHeap(file, top = 25) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const tally = new Tally();
  const visit = (node) => {
    tally.add(node.callFrame, node.selfSize);
    for (const child of node.children || []) visit(child);
  };
  visit(profile.head);
  return tally.report(`${file}: ${(tally.total / 1e6).toFixed(0)} MB allocated (sampled)`, top, (bytes) => `${(bytes / 1e6).toFixed(0).padStart(6)} MB`);
}

if (require.main === module) process.stdout.write(summarise(process.argv[2], Number(process.argv[3] || 25)));
module.exports = { summarise };
