'use strict';
// The bench table: rows of cells that keep their numbers, so that several runs can be combined into the
// median and spread of every figure. A scenario module returns rows built with `row` and `num`.
const { fmt } = require('./lib');

/** A cell of figures, e.g. num('int', 1908, 'ev/s') or num('ms', [p50, p99]) (shown "a / b"). */
function num(kind, values, unit = '') {
  return { kind, values: [].concat(values).map((v) => (v === undefined || Number.isNaN(v) ? null : v)), unit };
}

const FORMAT = { int: fmt.int, ms: fmt.ms, pct: fmt.pct, dec: (v) => (v === null ? '-' : v.toFixed(1)), x: (v) => (v === null ? '-' : `${v.toFixed(2)}×`) };

function render(cell) {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell;
  const text = cell.values.map(FORMAT[cell.kind]).join(' / ');
  const spread = cell.spread && cell.spread.some((s) => s !== null && s >= 0.005) ? ` (spread ${cell.spread.map((s) => (s === null ? '-' : fmt.pct(s))).join(' / ')})` : '';
  return `${text}${cell.unit ? ` ${cell.unit}` : ''}${spread}`;
}

/** measure, Herald's figure, the ceiling it is compared with, the ratio, the target and its verdict (PASS/MISS or ''). */
function row(measure, herald = '', ceiling = '', ratio = '', target = '', verdict = '') {
  return { measure, herald, ceiling, ratio, target, verdict };
}

const COLUMNS = ['measure', 'herald', 'ceiling', 'ratio', 'target', 'verdict'];
const HEAD = ['measure', 'Herald', 'ceiling', 'ratio', 'target', ''];

function table(rows) {
  const cells = rows.map((r) => COLUMNS.map((c) => render(r[c])));
  const all = [HEAD, ...cells];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  const text = [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
  const md = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`, ...cells.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  return { text, md };
}

function median(values) {
  const s = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The rows of several runs as one table: every figure the median of the runs, with its spread
 * ((max − min) / median); a verdict is PASS only when every run passed. Rows are matched by measure.
 */
function combine(runs) {
  // a measure may name a figure of its run (the e2e rate, a backlog): rows match with their digits left out
  const keyed = runs.map((rows) => {
    const seen = new Map();
    return new Map(
      rows.map((r) => {
        const measure = r.measure.replace(/[\d,.]+/g, '#').replace(/ \[.*\]$/, '');
        const n = (seen.get(measure) || 0) + 1;
        seen.set(measure, n);
        return [`${measure}#${n}`, r];
      }),
    );
  });
  const order = [];
  for (const k of keyed) for (const key of k.keys()) if (!order.includes(key)) order.push(key);
  return order.map((key) => {
    const versions = keyed.map((k) => k.get(key)).filter(Boolean);
    const first = versions[0];
    const out = { ...first };
    for (const c of ['herald', 'ceiling', 'ratio']) {
      if (!first[c] || typeof first[c] === 'string') continue;
      const cells = versions.map((v) => v[c]).filter((x) => x && typeof x !== 'string');
      const values = first[c].values.map((_, i) => median(cells.map((x) => x.values[i] ?? null)));
      const spread = first[c].values.map((_, i) => {
        const vs = cells.map((x) => x.values[i]).filter((v) => v !== null && v !== undefined);
        const m = median(vs);
        return vs.length > 1 && m ? (Math.max(...vs) - Math.min(...vs)) / Math.abs(m) : null;
      });
      out[c] = { ...first[c], values, spread };
    }
    const verdicts = versions.map((v) => v.verdict).filter(Boolean);
    if (verdicts.length) {
      const missed = verdicts.filter((v) => v !== 'PASS').length;
      out.verdict = missed ? `MISS ${missed}/${runs.length}` : 'PASS';
    }
    if (versions.length < runs.length) out.measure = `${first.measure} (${versions.length} of ${runs.length} runs)`;
    return out;
  });
}

module.exports = { num, row, render, table, combine, median };
