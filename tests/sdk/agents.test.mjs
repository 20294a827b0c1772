// Agents on `auto` through the official OpenAI Node SDK (issue 10): a two-step tool loop, stream
// and non-stream, with the SDK's default retries left on — the draft model's tool calls come back
// (route `draft`), no 5xx, no retries, one upstream call per step. Structured output and the
// invalid_tool_call rule too.
//
//   tests/sdk/run.sh          (runs every *.test.mjs listed there)
//
// Starts its own llm-sim and hybrid-gateway on ephemeral loopback ports and stops both by PID at
// the end. Env: GW_BUILD_DIR (default ../../build from this file) holds the binaries;
// GW_ARTIFACTS_DIR (default $GW_BUILD_DIR/test-artifacts) gets sdk-agents/*.log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.resolve(process.env.GW_BUILD_DIR || path.join(here, '../../build'));
const artifacts = path.join(
  path.resolve(process.env.GW_ARTIFACTS_DIR || path.join(buildDir, 'test-artifacts')), 'sdk-agents');
const GATEWAY_BIN = path.join(buildDir, 'hybrid-gateway');
const SIM_BIN = path.join(buildDir, 'llm-sim');

const { default: OpenAI } = await import('openai');
// Imported before any test is declared: node:test runs the after() hook once the tests declared
// so far are done, so a later top-level await would find the processes stopped.
const { generateText, streamText, tool, stepCountIs } = await import('ai');
const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
const { createOpenAI } = await import('@ai-sdk/openai');
const { z } = await import('zod');
const { ChatOpenAI } = await import('@langchain/openai');
const { HumanMessage, ToolMessage } = await import('@langchain/core/messages');

// ---------------- processes: every one stopped by its PID ----------------

const procs = [];
const running = (child) => child.exitCode === null && child.signalCode === null;
function killAll(signal) {
  for (const p of procs) {
    if (running(p.child)) { try { process.kill(p.child.pid, signal); } catch (e) { /* gone */ } }
  }
}
process.on('exit', () => killAll('SIGKILL'));

function start(name, argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = { name, child, lines: [], stderr: [] };
  for (const [stream, sink] of [[child.stdout, p.lines], [child.stderr, p.stderr]]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) { sink.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
    });
  }
  procs.push(p);
  return p;
}

async function waitLine(p, predicate, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = p.lines.find(predicate);
    if (line) return line;
    if (!running(p.child) || Date.now() > deadline) {
      throw new Error(`${p.name} not ready:\n${p.lines.join('\n')}\n${p.stderr.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(p) {
  if (!running(p.child)) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  process.kill(p.child.pid, 'SIGTERM');
  await exited;
}

function httpGet(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const simRequests = async () => JSON.parse(await httpGet(simPort, '/sim/stats')).requests;

function metricValue(text, name, labels = {}) {
  let total = null;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = {};
    for (const lm of (m[3] || '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) have[lm[1]] = lm[2];
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
    total = (total ?? 0) + Number(m[4]);
  }
  return total;
}

// ---------------- fixture ----------------

let sim, gw, gwPort, adminPort, simPort;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-sdk-agents-'));

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  sim = start('llm-sim', [SIM_BIN, '--listen', '127.0.0.1:0', '--model', 'phi-4-mini:ttft_ms=5',
    '--model', 'gpt-oss-20b:ttft_ms=10']);
  simPort = Number((await waitLine(sim, (l) => l.includes('listening on'))).trim().split(':').pop());
  const up = `"http://127.0.0.1:${simPort}/v1"`;
  const cfg = path.join(tmp, 'gateway.yaml');
  fs.writeFileSync(cfg, `server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  threads: 1
models:
  phi-4-mini:
    upstream: ${up}
  gpt-oss-20b:
    upstream: ${up}
routing:
  draft: phi-4-mini
  escalate: gpt-oss-20b
  after_draft:
    chars_under: 20
    finish_reason_length: true
    invalid_tool_call: true
    invalid_json: true
  stream:
    hold_tokens: 24
`);
  gw = start('hybrid-gateway', [GATEWAY_BIN, '--config', cfg]);
  const ev = JSON.parse(await waitLine(gw, (l) => l.startsWith('{') && l.includes('"listening"')));
  gwPort = Number(ev.listen.split(':').pop());
  adminPort = Number(ev.admin.split(':').pop());
});

after(async () => {
  try {
    for (const p of [gw, sim]) if (p) await stop(p);
  } finally {
    killAll('SIGKILL');
    for (const p of procs) {
      fs.writeFileSync(path.join(artifacts, p.name + '.log'),
        p.lines.join('\n') + '\n--- stderr ---\n' + p.stderr.join('\n') + '\n');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// Default maxRetries (2): a 5xx would be retried, and the upstream call count would show it.
const client = () => new OpenAI({ baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: 'unused', timeout: 20000 });

const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['C', 'F'] } },
      required: ['city', 'unit'],
    },
  },
}];

const getWeather = ({ city, unit }) => JSON.stringify({ city, unit, temperature: 21 });

// One assistant turn, streamed or not: {message, route, model}.
async function turn(messages, stream) {
  if (!stream) {
    const { data, response } = await client().chat.completions
      .create({ model: 'auto', messages, tools })
      .withResponse();
    return { message: data.choices[0].message, finish: data.choices[0].finish_reason,
      route: response.headers.get('x-gateway-route'), model: data.model };
  }
  const { data: chunks, response } = await client().chat.completions
    .create({ model: 'auto', messages, tools, stream: true })
    .withResponse();
  const message = { role: 'assistant', content: '', tool_calls: [] };
  let finish = null;
  let model = null;
  for await (const chunk of chunks) {
    model = chunk.model;
    const choice = chunk.choices[0];
    if (!choice) continue;
    message.content += choice.delta?.content ?? '';
    for (const tc of choice.delta?.tool_calls ?? []) {
      const call = (message.tool_calls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      call.id += tc.id ?? '';
      call.function.name += tc.function?.name ?? '';
      call.function.arguments += tc.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  if (message.tool_calls.length === 0) delete message.tool_calls;
  return { message, finish, route: response.headers.get('x-gateway-route'), model };
}

for (const stream of [false, true]) {
  test(`two-step tool loop on auto (stream: ${stream}): draft tool call, then the answer`, async () => {
    const errorsBefore = metricValue(await httpGet(adminPort, '/metrics'), 'gateway_upstream_errors_total') ?? 0;
    const messages = [{ role: 'user', content: 'What is the weather in Oslo?' }];
    let calls = await simRequests();

    const first = await turn(messages, stream);
    assert.equal(first.route, 'draft');
    assert.equal(first.model, 'phi-4-mini');
    assert.equal(first.finish, 'tool_calls');
    assert.equal(first.message.tool_calls.length, 1);
    const call = first.message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.ok('city' in args && 'unit' in args, call.function.arguments);
    assert.equal(await simRequests() - calls, 1, 'one upstream call, no retry');

    messages.push(first.message, { role: 'tool', tool_call_id: call.id, content: getWeather(args) });
    calls = await simRequests();
    const second = await turn(messages, stream);
    assert.equal(second.route, 'draft');
    assert.equal(second.finish, 'stop');
    assert.ok(!second.message.tool_calls, 'the answer after the tool result is text');
    assert.ok(second.message.content.length > 20, second.message.content);
    assert.equal(await simRequests() - calls, 1, 'one upstream call, no retry');

    const errorsAfter = metricValue(await httpGet(adminPort, '/metrics'), 'gateway_upstream_errors_total') ?? 0;
    assert.equal(errorsAfter, errorsBefore, 'a tool call is not an upstream error');
  });
}

test('the SDK stream helper assembles the draft tool call (chat.completions.stream)', async () => {
  const runner = client().chat.completions.stream({
    model: 'auto', tools, messages: [{ role: 'user', content: '[sim:tool_pieces=7] Weather in Bergen?' }],
  });
  const done = await runner.finalChatCompletion();
  const call = done.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.ok(JSON.parse(call.function.arguments).city);
  assert.equal(done.model, 'phi-4-mini');
});

test('invalid_tool_call escalates: the large model calls the tool instead', async () => {
  const { data, response } = await client().chat.completions.create({
    model: 'auto', tools, messages: [{ role: 'user', content: '[sim:tool=get_wether@phi-4-mini] Weather?' }],
  }).withResponse();
  assert.equal(response.headers.get('x-gateway-route'), 'escalated');
  assert.equal(response.headers.get('x-gateway-escalation-reason'), 'invalid_tool_call');
  assert.equal(data.model, 'gpt-oss-20b');
  assert.equal(data.choices[0].message.tool_calls[0].function.name, 'get_weather');
});

test('structured output {"ok":true} is the draft, not chars_under', async () => {
  const { data, response } = await client().chat.completions.create({
    model: 'auto',
    messages: [{ role: 'user', content: 'Is the plan ok?' }],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'verdict', strict: true, schema: {
        type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false } },
    },
  }).withResponse();
  assert.equal(response.headers.get('x-gateway-route'), 'draft');
  assert.deepEqual(JSON.parse(data.choices[0].message.content), { ok: true });
});

// ---------------- agent frameworks (pinned in package.json: newest that run on Node 20) ----------------


const weatherTool = () => tool({
  description: 'Current weather in a city',
  inputSchema: z.object({ city: z.string(), unit: z.enum(['C', 'F']) }),
  execute: async ({ city, unit }) => ({ city, unit, temperature: 21 }),
});

// Both AI SDK providers that speak Chat Completions: @ai-sdk/openai-compatible, and
// @ai-sdk/openai's .chat() (its default model, createOpenAI()(id), uses /v1/responses).
const aiSdkModels = () => [
  ['openai-compatible', createOpenAICompatible({ name: 'gw', baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: 'unused' })('auto')],
  ['openai .chat()', createOpenAI({ baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: 'unused' }).chat('auto')],
];

test('AI SDK generateText: two-step tool loop on auto, draft both steps, one call per step', async () => {
  for (const [name, model] of aiSdkModels()) {
    const calls = await simRequests();
    const result = await generateText({
      model, tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3),
      prompt: 'What is the weather in Oslo?',
    });
    assert.equal(result.steps.length, 2, name);
    assert.equal(result.steps[0].toolCalls[0].toolName, 'get_weather', name);
    assert.equal(result.steps[0].toolResults[0].output.temperature, 21, name);
    for (const step of result.steps) {
      assert.equal(step.response.headers['x-gateway-route'], 'draft', name);
    }
    assert.ok(result.text.length > 20, name);
    assert.equal(await simRequests() - calls, 2, `${name}: one upstream call per step, no retries`);
  }
});

test('AI SDK streamText: two-step tool loop on auto', async () => {
  for (const [name, model] of aiSdkModels()) {
    const calls = await simRequests();
    const result = streamText({
      model, tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3),
      prompt: '[sim:tool_pieces=5] Weather in Bergen?',
    });
    const text = await result.text;
    const steps = await result.steps;
    assert.equal(steps.length, 2, name);
    assert.equal(steps[0].toolCalls[0].toolName, 'get_weather', name);
    assert.equal(steps[0].response.headers['x-gateway-route'], 'draft', name);
    assert.ok(text.length > 20, name);
    assert.equal(await simRequests() - calls, 2, name);
  }
});

test('LangChain ChatOpenAI: bindTools tool loop and withStructuredOutput(functionCalling) on auto', async () => {
  const llm = new ChatOpenAI({
    model: 'auto', apiKey: 'unused', configuration: { baseURL: `http://127.0.0.1:${gwPort}/v1` },
  });
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather', description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['C', 'F'] } },
        required: ['city', 'unit'] },
    },
  };
  const calls = await simRequests();
  const withTools = llm.bindTools([weather]);
  const messages = [new HumanMessage('What is the weather in Oslo?')];
  const first = await withTools.invoke(messages);
  assert.equal(first.tool_calls.length, 1);
  assert.equal(first.tool_calls[0].name, 'get_weather');
  assert.equal(first.response_metadata.model_name ?? first.response_metadata.model, 'phi-4-mini');
  messages.push(first, new ToolMessage({ tool_call_id: first.tool_calls[0].id, content: '{"temperature":21}' }));
  const second = await withTools.invoke(messages);
  assert.equal((second.tool_calls ?? []).length, 0);
  assert.ok(String(second.content).length > 20);
  assert.equal(await simRequests() - calls, 2, 'one upstream call per step, no retries');

  const verdict = await llm
    .withStructuredOutput(z.object({ ok: z.boolean() }), { method: 'functionCalling', name: 'verdict' })
    .invoke('Is the plan ok?');
  assert.deepEqual(verdict, { ok: true });
});
