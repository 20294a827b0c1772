// Browser tests of the playground page (gateway/ui/): Debian's chromium, driven headless by
// playwright-core, against a real hybrid-gateway and llm-sim on ephemeral loopback ports.
//
//   node tests/browser/run.mjs          (after scripts/install-browser-deps.sh)
//
// Env: GW_BUILD_DIR (default ../../build from this file) holds hybrid-gateway and llm-sim;
// GW_ARTIFACTS_DIR (default $GW_BUILD_DIR/test-artifacts) gets browser/*.png and the logs;
// CHROMIUM (default /usr/bin/chromium).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The Node suites' one process harness (node built-ins only).
import {
  GATEWAY_BIN, SIM_BIN, artifactsDir, configFile, exitStatus, requireFiles, startGateway as startGatewayProcess,
  startSim, stop, stopAndKeepLogs,
} from '../sdk/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const artifacts = artifactsDir('browser');
const uiDir = path.join(repo, 'gateway/ui');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error('tests/browser: playwright-core is not installed; run scripts/install-browser-deps.sh (' +
    e.message + ')');
  process.exit(1);
}
requireFiles('tests/browser', [chromiumPath, GATEWAY_BIN, SIM_BIN],
  'build the project; install chromium with scripts/install-browser-deps.sh');

// ---------------- processes: every one stopped by its PID at the end (the harness) ----------------

const servers = [];

// A gateway in front of the simulator: {proc, url}; `name` names its config and its log.
async function startGateway(name, simPort, allowOrigins) {
  const upstream = `http://127.0.0.1:${simPort}/v1`;
  const cfg = configFile(name + '.yaml', `# written by tests/browser/run.mjs
server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  drain_timeout_ms: 1000
cors:
  allow_origins: ${JSON.stringify(allowOrigins)}
models:
  phi-4-mini:
    upstream: "${upstream}"
    price: { input_per_mtok: 0.10, output_per_mtok: 0.40 }
  gpt-oss-20b:
    upstream: "${upstream}"
    price: { input_per_mtok: 0.50, output_per_mtok: 2.00 }
routing:
  model_alias: auto
  draft: phi-4-mini
  escalate: gpt-oss-20b
  on_escalate: replace
  after_draft:
    chars_under: 5                # normal prompts: the draft is accepted
    finish_reason_length: false
    refusal: ["(?i)\\\\bI (don't|do not) know\\\\b", "(?i)insufficient (context|information)"]
  stream:
    hold_tokens: 24
  fallback: true
`);
  const { gw, gwPort } = await startGatewayProcess(cfg, undefined, name);
  return { proc: gw, url: 'http://127.0.0.1:' + gwPort };
}

// The gateway's JSON request-log lines for the chat endpoint.
function chatLog(proc) {
  const out = [];
  for (const l of proc.lines) {
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l);
      if (j.event === 'request' && j.path === '/v1/chat/completions') out.push(j);
    } catch (e) { /* not JSON */ }
  }
  return out;
}
const cancelled = (j) => j.status === 499 || j.error === 'client_gone';

// A second origin: gateway/ui/ served as plain files by a tiny server on another port.
function startStaticServer() {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  const server = http.createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p === '/') p = '/index.html';
    const file = path.join(uiDir, path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(uiDir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1',
    () => resolve('http://127.0.0.1:' + server.address().port)));
}

// ---------------- fixtures ----------------

let sim, gw, gwCorsLocked, staticOrigin, browser;
let page = null;
let pageErrors = [];

before(async () => {
  const s = await startSim(['--model', 'phi-4-mini:ttft_ms=60,tokens_per_s=60',
    '--model', 'gpt-oss-20b:ttft_ms=300,tokens_per_s=30']);
  sim = { proc: s.sim, port: s.simPort };
  gw = await startGateway('gateway', sim.port, ['*']);
  // A gateway whose CORS policy does not list the test origins: the browser refuses its answers.
  gwCorsLocked = await startGateway('gateway-cors-locked', sim.port, ['http://allowed.example']);
  staticOrigin = await startStaticServer();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  for (const s of servers) s.close();
  // Gateways before the simulator they call; every log kept in the artifacts folder.
  await stopAndKeepLogs(artifacts, gwCorsLocked?.proc, gw?.proc, sim?.proc);
});

async function newPage(url, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  page = await context.newPage();
  pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(15000);
  await page.goto(url);
  await page.waitForSelector('html[data-ready=true]');
  return page;
}

afterEach(async (t) => {
  if (!page) return;
  const name = t.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
  await page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage: true }).catch(() => {});
  await page.context().close().catch(() => {});
  page = null;
  assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
});

// ---------------- helpers that drive the page ----------------

const tid = (id) => `[data-testid="${id}"]`;
const panel = (i = 0) => page.locator(tid('answer')).nth(i);
const metric = async (name, i = 0) => (await panel(i).locator(tid('m-' + name)).textContent()).trim();

async function waitModels() {
  await page.waitForFunction(() => document.querySelectorAll('#model option').length >= 3);
  return page.$$eval('#model option', (os) => os.map((o) => o.value));
}

async function waitState(states, i = 0) {
  const handle = await panel(i).elementHandle();
  await page.waitForFunction(([el, s]) => s.includes(el.dataset.state), [handle, states]);
  return panel(i).getAttribute('data-state');
}

const isChat = (r) => r.url().endsWith('/v1/chat/completions') && r.request().method() === 'POST';

// Sends the prompt; resolves to the chat response (headers) once the answer is complete.
async function ask(prompt, { model = 'auto', context = '', final = ['done'] } = {}) {
  if (model) await page.selectOption('#model', model);
  await page.fill('#prompt', prompt);
  await page.fill('#context', context);
  const resp = page.waitForResponse(isChat);
  await page.click('#send');
  const r = await resp;
  assert.ok(final.includes(await waitState(final)), 'answer state');
  return r;
}

const points = () => page.locator(tid('chart-point')).count();

// ---------------- tests ----------------

test('page loads from the gateway at / and lists the models', async () => {
  await newPage(gw.url + '/');
  assert.equal(await page.title(), 'hybrid-gateway playground');
  assert.equal(await page.inputValue('#gateway-url'), gw.url);
  assert.deepEqual(await waitModels(), ['auto', 'phi-4-mini', 'gpt-oss-20b']);
  // The stylesheet came from /ui/style.css: the layout is a grid.
  assert.equal(await page.$eval('main', (m) => getComputedStyle(m).display), 'grid');
  assert.equal(await page.locator(tid('chart-legend') + ' .legend-item').count(), 2);
  // /playground serves the same page.
  const res = await fetch(gw.url + '/playground');
  assert.equal(res.status, 200);
  assert.match(await res.text(), /hybrid-gateway playground/);
});

// The browser asks for /favicon.ico unless the page declares its icon: a 404 is a console error
// (not a pageerror), so console errors are collected here.
test('the page loads with no console error (its icon is inline, no /favicon.ico 404)', async () => {
  const errors = [];
  const context = await browser.newContext();
  const p = await context.newPage();
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await p.goto(gw.url + '/');
  await p.waitForSelector('html[data-ready=true]');
  await p.waitForLoadState('networkidle');  // the icon is fetched after the page has loaded
  await context.close();
  assert.deepEqual(errors, []);
});

test('a streamed answer appears token by token', async () => {
  await newPage(gw.url + '/');
  await waitModels();
  await page.selectOption('#model', 'auto');
  await page.fill('#prompt', 'Tell me about the dashboard.');
  await page.click('#send');
  const seen = [];
  const deadline = Date.now() + 15000;
  for (;;) {
    const [len, state] = await panel().evaluate((el) =>
      [el.querySelector('[data-testid="answer-text"]').textContent.length, el.dataset.state]);
    if (state === 'done' || state === 'error') break;
    if (len > 0 && (seen.length === 0 || seen[seen.length - 1] !== len)) seen.push(len);
    assert.ok(Date.now() < deadline, 'the answer did not finish');
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(await panel().getAttribute('data-state'), 'done');
  const final = (await panel().locator(tid('answer-text')).textContent()).length;
  assert.ok(seen.length >= 2, `text grew across ${seen.length} observations before completion: ${seen}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], 'text only grows');
  assert.ok(final >= seen[seen.length - 1]);
  assert.match(await metric('usage'), /^\d+ \/ \d+$/);
  assert.match(await metric('ttft'), /\d+ (ms|s)$/);
  assert.match(await metric('tps'), /^\d+(\.\d)?$/);
  assert.match(await metric('cost'), /^\$[0-9.e-]+$/);
});

test('route, model and reason match the headers: draft accepted, then escalated on a refusal', async () => {
  await newPage(gw.url + '/');
  await waitModels();
  const p0 = await points();

  const r1 = await ask('Summarise the quarterly dashboard in two sentences.');
  const h1 = r1.headers();
  assert.equal(h1['x-gateway-route'], 'draft');
  assert.equal(await metric('route'), h1['x-gateway-route']);
  assert.equal(await metric('model'), h1['x-gateway-model']);
  assert.equal(await metric('reason'), '—');
  assert.equal(h1['x-gateway-escalation-reason'], undefined);
  assert.equal(await points(), p0 + 1, 'the chart gained a point');
  assert.equal(await page.locator(tid('chart-point')).last().getAttribute('data-model'), h1['x-gateway-model']);

  // The sim's phi-4-mini refuses ("insufficient context") when the prompt carries this directive.
  const context = 'The launch is planned for May. The budget is 10k.';
  const r2 = await ask('Who is the CEO? [sim:refuse@phi-4-mini]', { context });
  const h2 = r2.headers();
  assert.equal(h2['x-gateway-route'], 'escalated');
  assert.equal(h2['x-gateway-escalation-reason'], 'refusal');
  assert.equal(await metric('route'), 'escalated');
  assert.equal(await metric('reason'), 'refusal');
  assert.equal(await metric('model'), h2['x-gateway-model']);
  assert.equal(h2['x-gateway-model'], 'gpt-oss-20b');
  // The context went out as the grounding system message.
  const body = r2.request().postDataJSON();
  assert.equal(body.stream, true);
  assert.equal(body.messages[0].role, 'system');
  assert.match(body.messages[0].content, /^Answer using ONLY the provided context\. If insufficient, say so\./);
  assert.ok(body.messages[0].content.includes(context));
  assert.equal(body.messages[1].content, 'Who is the CEO? [sim:refuse@phi-4-mini]');
  assert.equal(await points(), p0 + 2, 'the chart gained a point per request');
  const last = page.locator(tid('chart-point')).last();
  assert.equal(await last.getAttribute('data-model'), 'gpt-oss-20b');
  assert.equal(await last.getAttribute('data-route'), 'escalated');
  assert.equal(await page.locator(tid('history') + ' tr').count(), 2);
});

test('compare mode sends the prompt to the draft and the escalation model side by side', async () => {
  await newPage(gw.url + '/');
  await waitModels();
  await page.check('#compare');
  assert.equal(await page.isDisabled('#model'), true);
  await page.fill('#prompt', 'Explain caching.');
  const seen = [];
  const onResp = (r) => { if (isChat(r)) seen.push(r); };
  page.on('response', onResp);
  await page.click('#send');
  await waitState(['done'], 0);
  await waitState(['done'], 1);
  page.off('response', onResp);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map((r) => r.request().postDataJSON().model).sort(), ['gpt-oss-20b', 'phi-4-mini']);
  assert.deepEqual(await page.locator(tid('answer-title')).allTextContents(), ['phi-4-mini', 'gpt-oss-20b']);
  assert.equal(await metric('route', 0), 'direct');
  assert.equal(await metric('model', 1), 'gpt-oss-20b');
  assert.equal(await points(), 2);
  const models = await page.locator(tid('chart-point')).evaluateAll((gs) => gs.map((g) => g.dataset.model));
  assert.deepEqual(models.sort(), ['gpt-oss-20b', 'phi-4-mini']);
});

test('an upstream error shows the OpenAI error message', async () => {
  await newPage(gw.url + '/');
  await waitModels();
  const r = await ask('Break please [sim:error=500]', { model: 'gpt-oss-20b', final: ['error'] });
  assert.equal(r.status(), 500);
  const err = await panel().locator(tid('answer-error')).textContent();
  assert.match(err, /HTTP 500: simulated upstream error/);
  assert.equal(await metric('route'), 'direct');
  assert.equal(await points(), 0, 'failed requests are not charted');
});

test('Stop aborts a slow stream and the gateway logs the request as cancelled', async () => {
  // A gateway of its own, so that a gateway crash on a client that goes away fails this test only.
  const g = await startGateway('gateway-stop', sim.port, ['*']);
  await newPage(g.url + '/');
  await waitModels();
  for (const model of ['auto', 'gpt-oss-20b']) {
    const before = chatLog(g.proc).filter(cancelled).length;
    await page.selectOption('#model', model);
    await page.fill('#prompt', 'Go slowly. [sim:tps=2]');
    await page.click('#send');
    if (model === 'auto') {
      // Held: the gateway judges the first 24 draft tokens before the first byte.
      await waitState(['waiting']);
      await page.waitForTimeout(800);
    } else {
      // Direct: tokens trickle in; stop mid-answer.
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="answer-text"]').textContent.length > 0);
    }
    assert.equal(await page.isEnabled('#stop'), true);
    await page.click('#stop');
    assert.equal(await waitState(['stopped']), 'stopped');
    assert.match(await panel().locator(tid('answer-note')).textContent(), /^Stopped by you after \d/);
    assert.equal(await panel().locator(tid('answer-error')).isHidden(), true);
    assert.equal(await page.isEnabled('#send'), true);
    const deadline = Date.now() + 5000;
    while (chatLog(g.proc).filter(cancelled).length === before) {
      assert.equal(exitStatus(g.proc), null, model + ': the gateway died when the client went away: ' +
        JSON.stringify(exitStatus(g.proc)));
      assert.ok(Date.now() < deadline, model + ': the gateway logged no cancelled request:\n' +
        g.proc.lines.slice(-5).join('\n'));
      await new Promise((r) => setTimeout(r, 50));
    }
    const line = chatLog(g.proc).filter(cancelled).pop();
    assert.equal(line.model, model);
    await page.waitForTimeout(300);
    assert.equal(exitStatus(g.proc), null, model + ': the gateway died after the client went away: ' +
      JSON.stringify(exitStatus(g.proc)));
  }
  assert.equal(await points(), 0, 'stopped requests are not charted');
  // The gateway still answers.
  await ask('Still there?', { model: 'phi-4-mini' });
  assert.equal(await points(), 1);
  assert.equal((await stop(g.proc)).code, 0);
});

test('the page works from a second origin against a typed gateway URL', async () => {
  await newPage(staticOrigin + '/index.html');
  // Its own origin is no gateway: the page says so and waits for a URL.
  await page.waitForSelector(tid('global-error') + ':not([hidden])');
  assert.match(await page.textContent(tid('global-error')), /No gateway at/);
  assert.equal(await page.$eval('main', (m) => getComputedStyle(m).display), 'grid', 'style.css loaded');
  await page.fill('#gateway-url', gw.url);
  await page.click('#connect');
  assert.deepEqual(await waitModels(), ['auto', 'phi-4-mini', 'gpt-oss-20b']);
  assert.equal(await page.isHidden(tid('global-error')), true);
  const r = await ask('Hello from another origin.');
  assert.equal(r.headers()['access-control-allow-origin'], '*');
  assert.ok((await panel().locator(tid('answer-text')).textContent()).length > 10);
  assert.equal(await metric('route'), r.headers()['x-gateway-route']);
  assert.equal(await points(), 1);
});

test('a gateway whose CORS policy refuses this origin is reported', async () => {
  await newPage(staticOrigin + '/index.html');
  await page.fill('#gateway-url', gwCorsLocked.url);
  await page.click('#connect');
  await page.waitForFunction(() => /CORS refused/.test(document.getElementById('global-error').textContent));
  assert.match(await page.textContent(tid('global-error')), /unreachable or CORS refused.*cors\.allow_origins/);
});

test('the page works as a file:// copy', async () => {
  await newPage(pathToFileURL(path.join(uiDir, 'index.html')).href);
  assert.equal(await page.inputValue('#gateway-url'), '');
  assert.equal(await page.$eval('main', (m) => getComputedStyle(m).display), 'grid', 'style.css loaded');
  await page.fill('#gateway-url', gw.url);
  await page.click('#connect');
  await waitModels();
  await ask('Hello from a file.', { model: 'phi-4-mini' });
  assert.equal(await metric('route'), 'direct');
  assert.equal(await metric('model'), 'phi-4-mini');
});

test('readable at phone width (375px)', async () => {
  await newPage(gw.url + '/', { width: 375, height: 800 });
  await waitModels();
  await ask('A question on a phone.', { context: 'Some context for the phone.' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  // Keyboard: Ctrl+Enter in the prompt sends.
  await page.focus('#prompt');
  const resp = page.waitForResponse(isChat);
  await page.keyboard.press('Control+Enter');
  await resp;
  await waitState(['done']);
  assert.equal(await points(), 2);
});

test('an error is shown when the gateway is down', async () => {
  await newPage(gw.url + '/');
  await waitModels();
  await ask('One answer before the gateway goes.');
  const r = await stop(gw.proc);
  assert.equal(r.code, 0, 'the gateway exits 0 on SIGTERM');
  await page.fill('#prompt', 'Anyone there?');
  await page.click('#send');
  assert.equal(await waitState(['error']), 'error');
  assert.match(await panel().locator(tid('answer-error')).textContent(),
    /Cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+: unreachable or CORS refused/);
  assert.equal(await points(), 1);
});
