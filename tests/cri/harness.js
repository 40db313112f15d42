'use strict';
// Steps, assertions and bounded waits for the CRI scenarios. A scenario is a list of named
// steps; the first failing one stops it and is reported as "FAIL <step>: <why>", followed by
// the end of containerd's log (which carries the shims' logs too).
const fs = require('fs');

class StepFailure extends Error {}

function fail(msg) {
  throw new StepFailure(msg);
}

function check(cond, msg) {
  if (!cond) fail(msg);
}

function checkEqual(actual, expected, what) {
  if (actual !== expected) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// Polls fn() (a promise or value) every intervalMs until it is truthy; fails naming `what`
// after timeoutMs, or at once if fn fails a check. Returns fn's truthy result.
async function waitFor(what, fn, timeoutMs = 30000, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof StepFailure) throw e;
      last = e;
    }
    if (Date.now() >= end) fail(`${what}: not within ${timeoutMs / 1000}s${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Runs steps in order: [name, async fn] pairs. Returns the process exit status.
async function runSteps(title, steps, { onFailure } = {}) {
  for (const [name, fn] of steps) {
    const t0 = Date.now();
    try {
      await fn();
    } catch (e) {
      console.log(`FAIL ${title}: ${name}: ${e.message}`);
      if (!(e instanceof StepFailure) && e.stack) console.log(e.stack);
      if (onFailure) await onFailure();
      return 1;
    }
    console.log(`ok ${title}: ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  }
  return 0;
}

// Processes whose command line contains any of needles (except the ones in `except`).
function processesMatching(needles, except = []) {
  const found = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || except.includes(Number(pid))) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (cmd && needles.some((n) => cmd.includes(n))) found.push(`${pid} ${cmd}`);
  }
  return found;
}

function mountsMatching(needles) {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l && needles.some((n) => l.includes(n)));
}

// Bound Unix socket paths containing any of needles (from /proc/net/unix).
function socketsMatching(needles) {
  const paths = fs
    .readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[7])
    .filter((p) => p && needles.some((n) => p.includes(n)));
  return [...new Set(paths)];
}

// Files and directories under root (to depth levels) whose name contains any of needles.
function filesMatching(root, needles, depth = 4) {
  const found = [];
  const walk = (d, level) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (needles.some((n) => e.name.includes(n))) found.push(p);
      else if (e.isDirectory() && level < depth) walk(p, level + 1);
    }
  };
  walk(root, 1);
  return found;
}

// The last lines of a file, each cut to 600 characters.
function tail(file, lines = 40) {
  try {
    const all = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).map((l) => (l.length > 600 ? `${l.slice(0, 600)}...` : l)).join('\n');
  } catch (e) {
    return `(${e.message})`;
  }
}

// "--- what (file), last lines:" and its tail, or nothing if the file does not exist.
function fileTail(file, what, lines = 40) {
  return fs.existsSync(file) ? `--- ${what} (${file}), last lines:\n${tail(file, lines)}` : '';
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

module.exports = {
  fail,
  check,
  checkEqual,
  waitFor,
  runSteps,
  processesMatching,
  mountsMatching,
  socketsMatching,
  filesMatching,
  pidAlive,
  tail,
  fileTail,
};
