// hybrid-gateway playground: streams chat completions from the gateway, shows how each answer
// was routed and what it cost, and charts latency per request. Plain JS, no dependencies, so the
// page works offline and from a file:// copy.
(function () {
  'use strict';

  const GROUNDING = 'Answer using ONLY the provided context. If insufficient, say so.';
  const SAMPLE_CONTEXT =
    'hybrid-gateway is an OpenAI-compatible proxy. A request for the model "auto" is drafted by ' +
    'phi-4-mini; the gateway escalates to gpt-oss-20b when the draft is too short, too long, ' +
    'cut off, or a refusal. Every request is timed and costed and published to Prometheus.';
  const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#4b5563'];
  const MAX_POINTS = 40;

  const $ = (id) => document.getElementById(id);
  const el = {};

  const state = {
    models: [],        // [{id, price, routing}]
    prices: {},        // id -> {input_per_mtok, output_per_mtok, per_second}
    routing: null,     // the alias entry's routing: {draft, escalate, ...}
    alias: 'auto',
    controller: null,  // AbortController of the request(s) in flight
    points: [],        // [{n, model, asked, route, reason, ttft, total, tps, cost}]
    seq: 0,
    colors: {},
  };

  // ---------- small helpers ----------

  function baseUrl() {
    return el.url.value.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  function headers(json) {
    const h = {};
    if (json) h['Content-Type'] = 'application/json';
    const key = el.key.value.trim();
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  function pageOrigin() {
    return /^https?:$/.test(location.protocol) ? location.origin : 'null (' + location.protocol + ' page)';
  }

  // A fetch that rejects with TypeError failed before any response: wrong address, gateway down,
  // or the browser refused the CORS response (the page cannot tell those apart).
  function unreachableMessage(url) {
    let msg = 'Cannot reach the gateway at ' + url + ': unreachable or CORS refused.';
    let sameOrigin = false;
    try { sameOrigin = new URL(url).origin === location.origin; } catch (e) { /* bad URL */ }
    msg += sameOrigin
      ? ' Is the gateway running?'
      : ' Check the URL, that the gateway runs, and that its cors.allow_origins lists this page\'s origin ' +
        pageOrigin() + ' (or "*").';
    return msg;
  }

  // The OpenAI error object's message, or a fallback built from the status.
  async function errorFromResponse(res) {
    const text = await res.text().catch(() => '');
    let detail = '';
    try {
      const body = JSON.parse(text);
      if (body && body.error) {
        const e = body.error;
        detail = (typeof e === 'string' ? e : e.message || JSON.stringify(e));
        const tags = [e.type, e.code].filter(Boolean).join(', ');
        if (tags) detail += ' (' + tags + ')';
      }
    } catch (e) { /* not JSON */ }
    if (!detail) detail = text.trim().slice(0, 300) || res.statusText || 'no details';
    return 'HTTP ' + res.status + ': ' + detail;
  }

  function fmtMs(ms) {
    if (ms == null || !isFinite(ms)) return '—';
    if (ms < 10 && ms !== 0) return ms.toFixed(1) + ' ms';
    return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s';
  }

  function fmtUsd(x) {
    if (x == null || !isFinite(x)) return '—';
    if (x === 0) return '$0';
    if (x < 0.01) return '$' + x.toPrecision(3);
    return '$' + x.toFixed(4);
  }

  function colorOf(model) {
    if (!state.colors[model]) {
      state.colors[model] = PALETTE[Object.keys(state.colors).length % PALETTE.length];
    }
    return state.colors[model];
  }

  function setStatus(node, text) { node.textContent = text || ''; }

  function showGlobalError(msg) {
    el.globalError.textContent = msg || '';
    el.globalError.hidden = !msg;
  }

  // ---------- models ----------

  async function loadModels() {
    showGlobalError('');
    const base = baseUrl();
    if (!base) {
      setStatus(el.connStatus, 'Type the gateway URL, e.g. http://127.0.0.1:8080');
      return false;
    }
    try { localStorage.setItem('gw.url', base); } catch (e) { /* storage off */ }
    setStatus(el.connStatus, 'Loading models…');
    let res;
    try {
      res = await fetch(base + '/v1/models', { headers: headers(false) });
    } catch (e) {
      setStatus(el.connStatus, 'Not connected');
      showGlobalError(unreachableMessage(base));
      return false;
    }
    if (!res.ok) {
      setStatus(el.connStatus, 'Not connected');
      const why = await errorFromResponse(res);
      showGlobalError(res.status === 404
        ? 'No gateway at ' + base + ' (GET /v1/models: ' + why + '). Type the gateway\'s URL, e.g. http://127.0.0.1:8080.'
        : 'Could not list models: ' + why);
      return false;
    }
    let body;
    try { body = await res.json(); } catch (e) {
      setStatus(el.connStatus, 'Not connected');
      showGlobalError('The gateway at ' + base + ' did not answer /v1/models with JSON.');
      return false;
    }
    const list = Array.isArray(body && body.data) ? body.data : [];
    state.models = list;
    state.prices = {};
    state.routing = null;
    for (const m of list) {
      if (m.price) state.prices[m.id] = m.price;
      if (m.routing) { state.routing = m.routing; state.alias = m.id; }
    }
    const previous = el.model.value;
    el.model.textContent = '';
    const ids = [];
    if (state.routing) ids.push(state.alias);
    for (const m of list) if (!m.routing) ids.push(m.id);
    for (const id of ids) {
      const opt = document.createElement('option');
      opt.value = id;
      opt.textContent = id === state.alias && state.routing
        ? id + ' (' + state.routing.draft + ' → ' + state.routing.escalate + ')'
        : id;
      el.model.appendChild(opt);
      colorOf(id === state.alias && state.routing ? state.routing.draft : id);
    }
    if (ids.includes(previous)) el.model.value = previous;
    el.compare.disabled = !state.routing;
    if (!state.routing) el.compare.checked = false;
    syncCompare();
    renderChart();
    setStatus(el.connStatus, 'Connected: ' + ids.length + ' model' + (ids.length === 1 ? '' : 's'));
    return true;
  }

  function syncCompare() {
    el.model.disabled = el.compare.checked;
  }

  // ---------- answers ----------

  function makePanel(title) {
    const node = el.template.content.firstElementChild.cloneNode(true);
    node.querySelector('[data-testid="answer-title"]').textContent = title;
    const q = (t) => node.querySelector('[data-testid="' + t + '"]');
    return {
      node,
      text: q('answer-text'),
      error: q('answer-error'),
      noteEl: q('answer-note'),
      badge: q('answer-state'),
      m: {
        route: q('m-route'), model: q('m-model'), reason: q('m-reason'), ttft: q('m-ttft'),
        total: q('m-total'), tps: q('m-tps'), usage: q('m-usage'), cost: q('m-cost'),
        timing: q('m-timing'),
      },
      setState(s, label) {
        node.dataset.state = s;
        this.badge.textContent = label || s;
        this.text.setAttribute('aria-busy', s === 'waiting' || s === 'streaming' ? 'true' : 'false');
      },
      fail(msg) {
        this.error.textContent = msg;
        this.error.hidden = false;
      },
      note(msg) {
        this.noteEl.textContent = msg;
        this.noteEl.hidden = false;
      },
    };
  }

  function buildMessages(prompt, context) {
    const messages = [];
    if (context) {
      messages.push({ role: 'system', content: GROUNDING + '\n\nContext:\n' + context });
    }
    messages.push({ role: 'user', content: prompt });
    return messages;
  }

  // Reads an SSE body: events are separated by blank lines, each `data:` line is part of the
  // event's data. Calls onData(string) per event; stops at `[DONE]`.
  async function readSse(body, onData) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    let data = [];
    const dispatch = () => {
      if (!data.length) return false;
      const payload = data.join('\n');
      data = [];
      if (payload.trim() === '[DONE]') return true;
      onData(payload);
      return false;
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        let line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (dispatch()) { reader.cancel().catch(() => {}); return true; }
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5));
        } // comments (":") and other fields are ignored
      }
    }
    buf += decoder.decode();
    if (buf.startsWith('data:')) data.push(buf.slice(buf[5] === ' ' ? 6 : 5));
    return dispatch();
  }

  function parseServerTiming(h) {
    if (!h) return '';
    return h.split(',').map((part) => {
      const [name, ...params] = part.trim().split(';');
      const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
      return dur ? name + ' ' + fmtMs(parseFloat(dur.slice(4))) : name;
    }).join(' · ');
  }

  function cost(model, usage, totalMs) {
    const p = state.prices[model];
    if (!p || !usage) return null;
    return ((usage.prompt_tokens || 0) * (p.input_per_mtok || 0) +
            (usage.completion_tokens || 0) * (p.output_per_mtok || 0)) / 1e6 +
           (p.per_second || 0) * (totalMs / 1000);
  }

  // One streamed request into one panel. Resolves to a result record (or null when it failed).
  async function runOne(panel, model, messages, signal) {
    const base = baseUrl();
    const t0 = performance.now();
    let tFirst = null;
    let chunks = 0;
    let usage = null;
    let answeredBy = null;
    let streamError = null;
    const m = panel.m;
    panel.setState('waiting', 'waiting');

    let res;
    try {
      res = await fetch(base + '/v1/chat/completions', {
        method: 'POST',
        headers: headers(true),
        body: JSON.stringify({
          model, messages, stream: true, stream_options: { include_usage: true },
        }),
        signal,
      });
    } catch (e) {
      if (e.name === 'AbortError') {
        panel.setState('stopped', 'stopped');
        panel.note('Stopped by you after ' + fmtMs(performance.now() - t0) + ', before the gateway answered.');
      } else {
        panel.setState('error', 'error');
        panel.fail(unreachableMessage(base));
      }
      return null;
    }

    const route = res.headers.get('x-gateway-route');
    const hdrModel = res.headers.get('x-gateway-model');
    const reason = res.headers.get('x-gateway-escalation-reason');
    m.route.textContent = route || '—';
    m.model.textContent = hdrModel || '—';
    m.reason.textContent = reason || '—';
    const requestId = res.headers.get('x-request-id');
    const timing = parseServerTiming(res.headers.get('server-timing'));
    m.timing.textContent = [timing && 'gateway: ' + timing, requestId && 'request ' + requestId]
      .filter(Boolean).join(' — ');

    if (!res.ok) {
      panel.setState('error', 'error ' + res.status);
      m.total.textContent = fmtMs(performance.now() - t0);
      panel.fail(await errorFromResponse(res));
      return null;
    }

    panel.setState('streaming', 'streaming');
    let finished = false;
    try {
      finished = await readSse(res.body, (payload) => {
        let obj;
        try { obj = JSON.parse(payload); } catch (e) { return; }
        if (obj.error) {
          const e = obj.error;
          streamError = typeof e === 'string' ? e : (e.message || JSON.stringify(e)) +
            ([e.type, e.code].filter(Boolean).length ? ' (' + [e.type, e.code].filter(Boolean).join(', ') + ')' : '');
          return;
        }
        if (obj.model && !answeredBy) answeredBy = obj.model;
        if (obj.usage) usage = obj.usage;
        const choice = obj.choices && obj.choices[0];
        const piece = choice && choice.delta && choice.delta.content;
        if (piece) {
          if (tFirst == null) {
            tFirst = performance.now();
            m.ttft.textContent = fmtMs(tFirst - t0);
          }
          chunks++;
          panel.text.textContent += piece;
        }
      });
    } catch (e) {
      if (e.name === 'AbortError' || signal.aborted) {
        panel.setState('stopped', 'stopped');
        panel.note('Stopped by you after ' + fmtMs(performance.now() - t0) + '.');
      } else {
        panel.setState('error', 'error');
        panel.fail('The connection to the gateway broke mid-answer (' + e.message + ').');
      }
      m.total.textContent = fmtMs(performance.now() - t0);
      return null;
    }
    const tEnd = performance.now();
    const total = tEnd - t0;
    const ttft = tFirst == null ? null : tFirst - t0;
    const model2 = hdrModel || answeredBy || model;
    if (streamError) {
      panel.setState('error', 'error');
      panel.fail('Upstream error: ' + streamError);
      m.total.textContent = fmtMs(total);
      return null;
    }
    if (!finished) {
      panel.fail('The stream ended without [DONE]: the answer may be cut off.');
    }
    const outTokens = usage ? usage.completion_tokens : chunks;
    const genMs = ttft == null ? 0 : total - ttft;
    const tps = genMs > 0 && outTokens ? outTokens / (genMs / 1000) : null;
    const c = cost(model2, usage, total);
    m.total.textContent = fmtMs(total);
    if (ttft == null) m.ttft.textContent = '—';
    m.tps.textContent = tps == null ? '—' : tps.toFixed(1) + (usage ? '' : ' (est.)');
    m.usage.textContent = usage
      ? usage.prompt_tokens + ' / ' + usage.completion_tokens
      : '— / ~' + chunks + ' (no usage sent)';
    m.cost.textContent = c == null ? '—' : fmtUsd(c);
    panel.setState('done', 'done');
    return {
      asked: model, model: model2, route: route || '', reason: reason || '',
      ttft: ttft == null ? total : ttft, total, tps, cost: c,
    };
  }

  async function send() {
    if (state.controller) return;
    const prompt = el.prompt.value.trim();
    if (!prompt) {
      el.prompt.focus();
      setStatus(el.runStatus, 'Type a prompt first.');
      return;
    }
    if (!baseUrl()) {
      el.url.focus();
      showGlobalError('Type the gateway URL first, e.g. http://127.0.0.1:8080');
      return;
    }
    showGlobalError('');
    if (!state.models.length) await loadModels();
    const context = el.context.value.trim();
    const messages = buildMessages(prompt, context);
    const targets = el.compare.checked && state.routing
      ? [state.routing.draft, state.routing.escalate]
      : [el.model.value || state.alias];

    el.answers.textContent = '';
    el.answers.classList.toggle('compare', targets.length > 1);
    const controller = new AbortController();
    state.controller = controller;
    el.send.disabled = true;
    el.stop.disabled = false;
    setStatus(el.runStatus, 'Asking ' + targets.join(' and ') + (context ? ' with context' : '') + '…');

    const runs = targets.map((model) => {
      const panel = makePanel(model);
      el.answers.appendChild(panel.node);
      return runOne(panel, model, messages, controller.signal).then((r) => {
        if (r) addPoint(r);
        return r;
      }, (e) => {
        panel.setState('error', 'error');
        panel.fail('Unexpected error: ' + e.message);
        return null;
      });
    });
    const results = await Promise.all(runs);
    state.controller = null;
    el.send.disabled = false;
    el.stop.disabled = true;
    const ok = results.filter(Boolean).length;
    setStatus(el.runStatus, controller.signal.aborted ? 'Stopped.'
      : ok === results.length ? 'Done.'
      : results.length === 1 ? 'Failed: see the answer.' : ok + ' of ' + results.length + ' answers completed.');
  }

  function stop() {
    if (state.controller) {
      state.controller.abort();
      setStatus(el.runStatus, 'Stopping…');
    }
  }

  // ---------- chart ----------

  function addPoint(r) {
    r.n = ++state.seq;
    state.points.push(r);
    if (state.points.length > MAX_POINTS) state.points.shift();
    colorOf(r.model);
    renderChart();
    const tr = document.createElement('tr');
    tr.dataset.testid = 'history-row';
    for (const v of [r.n, r.asked, r.model, r.route || '—', r.reason || '—', fmtMs(r.ttft),
      fmtMs(r.total), r.tps == null ? '—' : r.tps.toFixed(1), fmtUsd(r.cost)]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.appendChild(td);
    }
    el.history.insertBefore(tr, el.history.firstChild);
  }

  // A round tick step that splits [0, v] into at most about five intervals.
  function niceStep(v) {
    if (!(v > 0)) return 25;
    const raw = v / 5;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, parent) {
    const n = document.createElementNS(SVGNS, tag);
    for (const k in attrs) n.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(n);
    return n;
  }

  function renderLegend() {
    el.legend.textContent = '';
    const models = Object.keys(state.colors);
    for (const model of models) {
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.dataset.model = model;
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = state.colors[model];
      item.append(sw, document.createTextNode(model));
      el.legend.appendChild(item);
    }
    const key = document.createElement('span');
    key.className = 'legend-key';
    key.innerHTML = '<svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="4.5" ' +
      'fill="none" stroke="currentColor" stroke-width="2"/></svg>TTFT ' +
      '<svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="currentColor"/>' +
      '</svg>total';
    el.legend.appendChild(key);
  }

  function renderChart() {
    renderLegend();
    const chart = el.chart;
    for (const n of Array.from(chart.childNodes)) {
      if (n.nodeName !== 'title' && n.nodeName !== 'desc') chart.removeChild(n);
    }
    const W = Math.max(280, Math.round(el.chartWrap.clientWidth || 600));
    const H = W < 480 ? 200 : 240;
    chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    chart.setAttribute('width', W);
    chart.setAttribute('height', H);
    const pad = { l: 52, r: 12, t: 12, b: 30 };
    const iw = W - pad.l - pad.r;
    const ih = H - pad.t - pad.b;
    const pts = state.points;
    const step = niceStep(Math.max(0, ...pts.map((p) => p.total)) * 1.05);
    const nticks = Math.max(4, Math.ceil((Math.max(0, ...pts.map((p) => p.total)) * 1.05) / step));
    const ymax = step * nticks;
    const y = (ms) => pad.t + ih - (ms / ymax) * ih;
    const slots = Math.max(pts.length, 5);
    const x = (i) => pad.l + (iw * (i + 0.5)) / slots;

    const axes = svg('g', { class: 'axes' }, chart);
    for (let k = 0; k <= nticks; k++) {
      const v = step * k;
      svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }, axes);
      const t = svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, axes);
      t.textContent = fmtMs(v);
    }
    const xl = svg('text', { x: pad.l + iw / 2, y: H - 6, 'text-anchor': 'middle', class: 'tick' }, axes);
    xl.textContent = pts.length ? 'request #' : 'no requests yet';

    const plot = svg('g', { class: 'points' }, chart);
    pts.forEach((p, i) => {
      const c = colorOf(p.model);
      const g = svg('g', {
        'data-testid': 'chart-point', 'data-model': p.model, 'data-route': p.route,
        'data-ttft': Math.round(p.ttft), 'data-total': Math.round(p.total),
      }, plot);
      const title = svg('title', {}, g);
      title.textContent = '#' + p.n + ' ' + p.model + (p.route ? ' (' + p.route + (p.reason ? ': ' + p.reason : '') + ')' : '') +
        ' — TTFT ' + fmtMs(p.ttft) + ', total ' + fmtMs(p.total);
      const cx = x(i);
      svg('line', { x1: cx, x2: cx, y1: y(p.ttft), y2: y(p.total), stroke: c, 'stroke-width': 2, opacity: 0.5 }, g);
      svg('circle', { cx, cy: y(p.ttft), r: 4.5, fill: 'var(--bg-card)', stroke: c, 'stroke-width': 2, class: 'ttft' }, g);
      svg('circle', { cx, cy: y(p.total), r: 5, fill: c, class: 'total' }, g);
      if (pts.length <= 20 || i % Math.ceil(pts.length / 20) === 0) {
        const lbl = svg('text', { x: cx, y: H - pad.b + 14, 'text-anchor': 'middle', class: 'tick' }, axes);
        lbl.textContent = String(p.n);
      }
    });
    el.chartDesc.textContent = pts.length
      ? pts.length + ' requests. Latest: ' + pts[pts.length - 1].model + ', TTFT ' +
        fmtMs(pts[pts.length - 1].ttft) + ', total ' + fmtMs(pts[pts.length - 1].total) + '.'
      : 'No requests yet. The table below lists the same numbers.';
  }

  // ---------- wiring ----------

  function init() {
    Object.assign(el, {
      url: $('gateway-url'), key: $('api-key'), connectForm: $('connect-form'),
      connStatus: $('conn-status'), globalError: $('global-error'), chatForm: $('chat-form'),
      model: $('model'), compare: $('compare'), prompt: $('prompt'), context: $('context'),
      send: $('send'), stop: $('stop'), runStatus: $('run-status'), answers: $('answers'),
      template: $('answer-template'), chart: $('chart'), chartWrap: $('chart-wrap'),
      chartDesc: $('chart-desc'), legend: $('chart-legend'), history: $('history'),
    });

    const params = new URLSearchParams(location.search);
    let saved = null;
    try { saved = localStorage.getItem('gw.url'); } catch (e) { /* storage off */ }
    const own = /^https?:$/.test(location.protocol) ? location.origin : '';
    el.url.value = params.get('gateway') || own || saved || '';

    el.connectForm.addEventListener('submit', (e) => { e.preventDefault(); loadModels(); });
    el.chatForm.addEventListener('submit', (e) => { e.preventDefault(); send(); });
    el.stop.addEventListener('click', stop);
    el.compare.addEventListener('change', syncCompare);
    el.prompt.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && state.controller) stop();
    });
    $('sample-context').addEventListener('click', () => {
      el.context.value = SAMPLE_CONTEXT;
      el.prompt.value = 'Who founded the company that makes phi-4-mini?';
      el.prompt.focus();
    });
    $('clear-chart').addEventListener('click', () => {
      state.points = [];
      el.history.textContent = '';
      renderChart();
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(renderChart, 100);
    });

    renderChart();
    if (el.url.value) {
      loadModels();
    } else {
      setStatus(el.connStatus, 'Type the gateway URL, e.g. http://127.0.0.1:8080, then Load models.');
    }
    document.documentElement.dataset.ready = 'true';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
