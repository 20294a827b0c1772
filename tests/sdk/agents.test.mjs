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
import {
  artifactsDir, configFile, httpGet, metricValue, startGateway, startSim, stopAndKeepLogs,
} from './harness.mjs';

const artifacts = artifactsDir('sdk-agents');

const { default: OpenAI } = await import('openai');
// Imported before any test is declared: node:test runs the after() hook once the tests declared
// so far are done, so a later top-level await would find the processes stopped.
const { generateText, streamText, tool, stepCountIs } = await import('ai');
const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
const { createOpenAI } = await import('@ai-sdk/openai');
const { z } = await import('zod');
const { ChatOpenAI } = await import('@langchain/openai');
const { HumanMessage, ToolMessage } = await import('@langchain/core/messages');

const simRequests = async () => JSON.parse((await httpGet(simPort, '/sim/stats')).body).requests;

// ---------------- fixture ----------------

let sim, gw, gwPort, adminPort, simPort;

before(async () => {
  ({ sim, simPort } = await startSim(['--model', 'phi-4-mini:ttft_ms=5',
    '--model', 'gpt-oss-20b:ttft_ms=10']));
  const up = `"http://127.0.0.1:${simPort}/v1"`;
  const cfg = configFile('agents.yaml', `server:
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
  ({ gw, gwPort, adminPort } = await startGateway(cfg));
});

after(() => stopAndKeepLogs(artifacts, gw, sim));

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
    const errorsBefore = metricValue((await httpGet(adminPort, '/metrics')).body, 'gateway_upstream_errors_total') ?? 0;
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

    const errorsAfter = metricValue((await httpGet(adminPort, '/metrics')).body, 'gateway_upstream_errors_total') ?? 0;
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
