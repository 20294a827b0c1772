// The one process harness of the Node suites (tests/sdk/*.test.mjs, tests/browser/run.mjs): where
// the binaries under test are, starting llm-sim and hybrid-gateway on ephemeral loopback ports,
// waiting for their ready lines, config files in a temp folder removed at exit, plain HTTP to the
// admin port and llm-sim, and stopping every process by its PID at the end (failures and ^C
// included), its output kept as an artifact. Node built-ins only, so any suite can import it.
//
// Env: GW_BUILD_DIR (default ../../build from this file) holds hybrid-gateway and llm-sim;
// GW_ARTIFACTS_DIR (default $GW_BUILD_DIR/test-artifacts) gets one folder of logs per test file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const buildDir = path.resolve(process.env.GW_BUILD_DIR || path.join(here, '../../build'));
export const GATEWAY_BIN = path.join(buildDir, 'hybrid-gateway');
export const SIM_BIN = path.join(buildDir, 'llm-sim');

// The folder a test file's process logs go to, created: $GW_ARTIFACTS_DIR/<name>.
export function artifactsDir(name) {
  const dir = path.join(
    path.resolve(process.env.GW_ARTIFACTS_DIR || path.join(buildDir, 'test-artifacts')), name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// Exits with a message naming `hint` when a binary or file the suite needs is missing: a setup
// problem, not a test failure to dig into.
export function requireFiles(suite, files, hint) {
  for (const f of files) {
    if (!fs.existsSync(f)) {
      console.error(suite + ': missing ' + f + ' (' + hint + ')');
      process.exit(1);
    }
  }
}

// Config files of this test process: one temp folder, removed at exit.
let configDir = null;
export function configFile(name, text) {
  if (configDir === null) configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-node-'));
  const file = path.join(configDir, name);
  fs.writeFileSync(file, text);
  return file;
}
process.on('exit', () => {
  if (configDir !== null) fs.rmSync(configDir, { recursive: true, force: true });
});

// ---------------- processes: every one stopped by its PID ----------------

export const procs = [];  // {name, child, lines, stderr, waiters}

export function running(child) {
  return child.exitCode === null && child.signalCode === null;
}
export function killAll(signal) {
  for (const p of procs) {
    if (running(p.child)) {
      try { process.kill(p.child.pid, signal); } catch (e) { /* already gone */ }
    }
  }
}
process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll('SIGKILL'); process.exit(130); });
}

export function start(name, argv, env) {
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...(env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = { name, child, lines: [], stderr: [], waiters: [] };
  const pump = (stream, sink) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        sink.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        for (const w of p.waiters) w();
      }
    });
  };
  pump(child.stdout, p.lines);
  pump(child.stderr, p.stderr);
  child.on('exit', () => { for (const w of p.waiters) w(); });
  procs.push(p);
  return p;
}

export function output(p) {
  return p.lines.join('\n') + '\n--- stderr ---\n' + p.stderr.join('\n');
}

// The first stdout line of `p` that satisfies `predicate`; rejects when `p` exits first or the
// line has not come within timeoutMs.
export function waitLine(p, predicate, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    let i = 0;
    const check = () => {
      for (; i < p.lines.length; i++) {
        if (predicate(p.lines[i])) { done(); resolve(p.lines[i]); return; }
      }
      if (!running(p.child)) {
        done();
        reject(new Error(p.name + ' exited before it was ready:\n' + output(p)));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(p.name + ' not ready after ' + timeoutMs + ' ms:\n' + output(p)));
    }, timeoutMs);
    const done = () => { clearTimeout(timer); p.waiters = p.waiters.filter((w) => w !== check); };
    p.waiters.push(check);
    check();
  });
}

// How `p` ended ({code, signal}), or null while it runs.
export function exitStatus(p) {
  return running(p.child) ? null : { code: p.child.exitCode, signal: p.child.signalCode };
}

// SIGTERM, then SIGKILL when `p` has not exited within graceMs. Resolves to exitStatus(p).
export async function stop(p, graceMs = 5000) {
  if (!running(p.child)) return exitStatus(p);
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  try { process.kill(p.child.pid, 'SIGTERM'); } catch (e) { return exitStatus(p); }
  const timer = setTimeout(() => {
    if (running(p.child)) { try { process.kill(p.child.pid, 'SIGKILL'); } catch (e) { /* gone */ } }
  }, graceMs);
  await exited;
  clearTimeout(timer);
  return exitStatus(p);
}

// Stops `toStop` in order (gateway before its upstream), kills whatever else is left, and writes
// every started process's output to `artifacts`/<name>.log.
export async function stopAndKeepLogs(artifacts, ...toStop) {
  try {
    for (const p of toStop) if (p) await stop(p);
  } finally {
    killAll('SIGKILL');
    for (const p of procs) {
      try { fs.writeFileSync(path.join(artifacts, p.name + '.log'), output(p) + '\n'); } catch (e) { /* */ }
    }
  }
}

// The `event` of a JSON log line, or null.
export function eventOf(line) {
  if (!line.startsWith('{')) return null;
  try { return JSON.parse(line).event ?? null; } catch (e) { return null; }
}

// llm-sim on an ephemeral port with `modelArgs` ('--model', 'NAME[:options]', ...).
export async function startSim(modelArgs) {
  const sim = start('llm-sim', [SIM_BIN, '--listen', '127.0.0.1:0', ...modelArgs]);
  const line = await waitLine(sim, (l) => l.includes('listening on'));
  return { sim, simPort: Number(line.trim().split(':').pop()) };
}

// hybrid-gateway with the config file `cfg`, its listen and admin ports from its 'listening' event.
// `name` names its log (several gateways in one file need several names).
export async function startGateway(cfg, env, name = 'hybrid-gateway') {
  const gw = start(name, [GATEWAY_BIN, '--config', cfg], env);
  const ev = JSON.parse(await waitLine(gw, (l) => eventOf(l) === 'listening'));
  return {
    gw, gwPort: Number(ev.listen.split(':').pop()), adminPort: Number(ev.admin.split(':').pop()),
  };
}

// ---------------- plain HTTP for the admin port and llm-sim ----------------

export function httpGet(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// The sum of a Prometheus metric's samples whose labels include `labels`; null when none.
export function metricValue(text, name, labels = {}) {
  let total = null;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = {};
    for (const lm of (m[3] || '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) have[lm[1]] = lm[2];
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
    total = (total ?? 0) + Number(m[4]);
  }
  return total;
}
