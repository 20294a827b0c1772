// The OpenAI surface besides chat through the official OpenAI Node SDK (issue 10):
// models.retrieve, responses.create (stream and not) on a named model and refused on `auto`,
// completions.create (stream and not), embeddings.create, and a 429 whose retry-after the SDK
// sees (maxRetries: 0).
//
//   tests/sdk/run.sh          (runs every *.test.mjs listed there)
//
// Starts its own llm-sim and hybrid-gateway on ephemeral loopback ports and stops both by PID at
// the end. Env: GW_BUILD_DIR (default ../../build from this file) holds the binaries;
// GW_ARTIFACTS_DIR (default $GW_BUILD_DIR/test-artifacts) gets sdk-surface/*.log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  artifactsDir, configFile, httpGet, metricValue, output, running, startGateway, startSim, stopAndKeepLogs,
} from './harness.mjs';

const artifacts = artifactsDir('sdk-surface');

const { default: OpenAI } = await import('openai');

const tokens = async (model, kind) =>
  metricValue((await httpGet(adminPort, '/metrics')).body, 'gateway_tokens_total', { model, kind }) ?? 0;

// A request is counted just after its last byte went out: a fast client polls for the growth.
async function tokensGrown(model, kind, before, want, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const grown = await tokens(model, kind) - before;
    if (grown >= want || Date.now() > deadline) return grown;
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------- fixture ----------------

let sim, gw, gwPort, adminPort;

before(async () => {
  let simPort;
  ({ sim, simPort } = await startSim(['--model', 'phi-4-mini', '--model', 'gpt-oss-20b']));
  const up = `"http://127.0.0.1:${simPort}/v1"`;
  const cfg = configFile('surface.yaml', `server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  threads: 1
models:
  phi-4-mini:
    upstream: ${up}
    price: { input_per_mtok: 0.10, output_per_mtok: 0.40 }
  gpt-oss-20b:
    upstream: ${up}
    price: { input_per_mtok: 0.50, output_per_mtok: 2.00 }
routing:
  model_alias: auto
  draft: phi-4-mini
  escalate: gpt-oss-20b
`);
  ({ gw, gwPort, adminPort } = await startGateway(cfg));
});

after(() => stopAndKeepLogs(artifacts, gw, sim));

const client = (opts = {}) => new OpenAI({
  baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20000, ...opts,
});

async function expectError(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected the SDK to throw');
}

// ---------------- tests ----------------

test('models.retrieve: auto and a named model', async () => {
  const auto = await client().models.retrieve('auto');
  assert.equal(auto.id, 'auto');
  assert.equal(auto.object, 'model');
  const phi = await client().models.retrieve('phi-4-mini');
  assert.equal(phi.id, 'phi-4-mini');
  assert.equal(phi.owned_by, 'hybrid-gateway');
  const err = await expectError(client().models.retrieve('no-such-model'));
  assert.ok(err instanceof OpenAI.NotFoundError, String(err));
  assert.equal(err.code, 'model_not_found');
});

test('responses.create non-stream on a named model: output_text, usage, gateway headers', async () => {
  const before = await tokens('phi-4-mini', 'completion');
  const { data, response } = await client().responses
    .create({ model: 'phi-4-mini', input: '[sim:tokens=7] Say hello' }).withResponse();
  assert.equal(data.object, 'response');
  assert.equal(data.status, 'completed');
  assert.equal(data.output_text.split(' ').length, 7);
  assert.equal(data.usage.output_tokens, 7);
  assert.equal(response.headers.get('x-gateway-route'), 'direct');
  assert.equal(response.headers.get('x-gateway-model'), 'phi-4-mini');
  assert.equal(await tokensGrown('phi-4-mini', 'completion', before, 7), 7);
});

test('responses.create stream on a named model: the SDK sees the Responses event types', async () => {
  const stream = await client().responses.create({
    model: 'gpt-oss-20b', input: [{ role: 'user', content: '[sim:tokens=5] Say hello' }], stream: true,
  });
  const types = [];
  let text = '';
  let completed;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.ok(types.includes('response.output_item.done'), types.join());
  assert.equal(text.split(' ').length, 5);
  assert.equal(completed.usage.output_tokens, 5);
  assert.equal(completed.output[0].content[0].text, text);
});

test('responses.stream helper accumulates the final response', async () => {
  const stream = client().responses.stream({ model: 'phi-4-mini', input: '[sim:tokens=3] hi' });
  const final = await stream.finalResponse();
  assert.equal(final.output_text.split(' ').length, 3);
});

test('responses.create on auto -> APIError 400 naming /v1/chat/completions', async () => {
  for (const stream of [false, true]) {
    const err = await expectError(client().responses.create({ model: 'auto', input: 'hi', stream }));
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'model_not_supported_on_endpoint');
    assert.match(err.message, /routed on \/v1\/chat\/completions only; ask \/v1\/responses for a named model: phi-4-mini, gpt-oss-20b/);
  }
});

test('completions.create non-stream and stream', async () => {
  const done = await client().completions.create({ model: 'phi-4-mini', prompt: '[sim:tokens=4] Once' });
  assert.equal(done.object, 'text_completion');
  assert.equal(done.choices[0].text.split(' ').length, 4);
  assert.equal(done.usage.completion_tokens, 4);

  const before = await tokens('phi-4-mini', 'completion');
  const stream = await client().completions.create({
    model: 'phi-4-mini', prompt: '[sim:tokens=6] Once', stream: true,
  });
  let text = '';
  for await (const chunk of stream) {
    assert.equal(chunk.usage, undefined, 'usage not asked for is not sent');
    text += chunk.choices[0]?.text ?? '';
  }
  assert.equal(text.split(' ').length, 6);
  assert.equal(await tokensGrown('phi-4-mini', 'completion', before, 6), 6, 'counted all the same');
});

test('embeddings.create: floats decoded from base64, prompt tokens counted', async () => {
  const before = await tokens('phi-4-mini', 'prompt');
  const res = await client().embeddings.create({ model: 'phi-4-mini', input: ['alpha', 'beta gamma'] });
  assert.equal(res.data.length, 2);
  assert.equal(res.data[0].embedding.length, 8);
  const norm = Math.hypot(...res.data[0].embedding);
  assert.ok(Math.abs(norm - 1) < 1e-5, 'a unit vector: ' + norm);
  assert.equal(await tokensGrown('phi-4-mini', 'prompt', before, res.usage.prompt_tokens), res.usage.prompt_tokens);
  const floats = await client().embeddings.create({
    model: 'phi-4-mini', input: 'alpha', encoding_format: 'float',
  });
  assert.deepEqual(floats.data[0].embedding.map((x) => x.toFixed(5)),
    res.data[0].embedding.map((x) => x.toFixed(5)));
});

test('embeddings.create on auto -> 400 naming the models', async () => {
  const err = await expectError(client().embeddings.create({ model: 'auto', input: 'x' }));
  assert.equal(err.status, 400);
  assert.match(err.message, /phi-4-mini, gpt-oss-20b/);
});

test('a 429 from the upstream reaches the SDK with retry-after (maxRetries: 0)', async () => {
  const err = await expectError(client().chat.completions.create({
    model: 'phi-4-mini', messages: [{ role: 'user', content: '[sim:error=429][sim:retry_after=9]' }],
  }));
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  assert.equal(err.status, 429);
  assert.equal(err.headers.get('retry-after'), '9');
  assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
});

test('the gateway process is still alive', () => {
  assert.ok(running(gw.child), output(gw));
});
