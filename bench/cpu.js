'use strict';
// Where the box's CPU goes during a measurement (Linux /proc): Herald's API and worker, PostgreSQL (every
// backend), Redis, the load generator and the receiver, in % of one core. A row whose latency grows because the
// machine is full says so with these figures: the box has (cores × 100) %.
const fs = require('node:fs');
const os = require('node:os');
const { execFileSync } = require('node:child_process');
const { num, row } = require('./report');

let ticksPerSecond = null;
function clockTicks() {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of every process, in clock ticks, with its command name. */
function processTimes() {
  const out = [];
  let pids = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out; // not Linux
  }
  for (const pid of pids) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15
    out.push({ pid: Number(pid), comm, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return out;
}

/** Which group a process belongs to, or null: Herald's processes and the bench's own by pid, the servers by name. */
function groupOf(p, byPid) {
  if (byPid.has(p.pid)) return byPid.get(p.pid);
  if (p.comm === 'postgres') return 'postgres';
  if (p.comm.startsWith('redis-server')) return 'redis';
  return null;
}

/** Each process of a group, by pid: its clock ticks so far. */
function snapshot(byPid) {
  const out = new Map();
  for (const p of processTimes()) {
    const g = groupOf(p, byPid);
    if (g) out.set(p.pid, { group: g, ticks: p.ticks });
  }
  return out;
}

/**
 * Each group's ticks between two snapshots, counted per process: a process started meanwhile counts whole, one
 * that exited meanwhile (a PostgreSQL backend whose connection closed) is left out, since what it used in the window
 * is gone with it. Summing groups before and after instead would count its whole life against the window.
 */
function deltas(before, after) {
  const sums = {};
  for (const [pid, { group, ticks }] of after) sums[group] = (sums[group] || 0) + ticks - (before.get(pid)?.ticks ?? 0);
  return sums;
}

const LABELS = { api: 'API', worker: 'worker', postgres: 'PostgreSQL', redis: 'Redis', generator: 'generator', receiver: 'receiver' };
/** The bench's processes by their name in ctx.procs, and the group each counts in. */
const PROCESSES = { api: 'api', worker: 'worker', loadgen: 'generator', receiver: 'receiver' };

/** Busy ticks of the whole box so far (user, nice, system, irq, softirq; not idle, iowait or steal), or null. */
function boxTicks() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return line[0] + line[1] + line[2] + line[5] + line[6];
  } catch {
    return null;
  }
}

/**
 * Starts counting; `stop()` answers each group's CPU over the window in % of one core, `box` for the whole machine
 * (so that the sum says how full it was) and `cores`, the machine's 100 % units.
 */
function startCpu(ctx) {
  const byPid = new Map();
  for (const [name, group] of Object.entries(PROCESSES)) {
    const proc = ctx.procs[name];
    if (proc && proc.alive()) byPid.set(proc.child.pid, group);
  }
  const t0 = Date.now();
  const before = snapshot(byPid);
  const boxBefore = boxTicks();
  return () => {
    const seconds = (Date.now() - t0) / 1000;
    const used = deltas(before, snapshot(byPid));
    const boxAfter = boxTicks();
    const pct = (ticks) => (100 * ticks) / clockTicks() / seconds;
    const out = { cores: os.cpus().length };
    for (const g of Object.keys(LABELS)) out[g] = used[g] === undefined ? null : pct(used[g]);
    if (boxBefore !== null && boxAfter !== null) out.box = pct(boxAfter - boxBefore);
    return out;
  };
}

/** "API 60 % · worker 54 % · … · box 197 % of 200 %" */
function describeCpu(cpu) {
  if (!cpu) return '';
  const parts = Object.entries(LABELS)
    .filter(([k]) => cpu[k] !== null && cpu[k] !== undefined)
    .map(([k, label]) => `${label} ${Math.round(cpu[k])} %`);
  if (cpu.box !== undefined) parts.push(`box ${Math.round(cpu.box)} % of ${cpu.cores * 100} %`);
  return parts.join(' · ');
}

/** The CPU of each process during a measurement, in % of one core, and the whole box's (the machine has cores × 100 %). */
function cpuRow(cpu, when = 'meanwhile') {
  if (!cpu) return row(`  CPU ${when}: not measured`);
  return row(`  CPU ${when}, % of a core: API / worker / PostgreSQL / Redis / generator / receiver / whole box (of ${cpu.cores * 100} %)`, num('int', [cpu.api, cpu.worker, cpu.postgres, cpu.redis, cpu.generator, cpu.receiver, cpu.box]));
}

module.exports = { startCpu, describeCpu, cpuRow };
