// The live page's script, served as is by dashboard-server.ts (no build step). Reads /api/topology and
// /topology.svg once, then follows /api/events; all data goes into the page as text, never as markup.

const QUEUE_FIELDS = ['depth', 'inFlight', 'received', 'succeeded', 'retried', 'deadLettered'];
const $ = (selector) => document.querySelector(selector);

/** Queue rows by display name. */
const rows = new Map();
/** Counter lines of the SVG by element id. */
const slots = new Map();
let topology = { nodes: [], edges: [] };
let selected;
/** Message id and event count of the trace on show: it is redrawn only when it grew. */
let shownTrace = '';
let lastMessages = '';
let messagesPending = false;

const count = (n) => (n ?? 0).toLocaleString('en-US');
const ms = (n) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)} s` : `${Math.round(n)} ms`);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-') || key.startsWith('aria-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function formatElapsed(msTotal) {
  const s = Math.floor(msTotal / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function queueRow(name, dlq) {
  const cells = QUEUE_FIELDS.map((field) => el('td', { 'data-field': field }, '0'));
  const row = el(
    'tr',
    { 'data-testid': `queue-row-${name}` },
    el('td', {}, name, dlq ? el('span', { class: 'tag' }, 'DLQ') : undefined),
    ...cells,
  );
  rows.set(name, row);
  $('#queues').append(row);
  return row;
}

async function loadTopology() {
  const [summary, svg] = await Promise.all([
    fetch('/api/topology').then((r) => r.json()),
    fetch('/topology.svg').then((r) => (r.ok ? r.text() : Promise.reject(new Error(`topology.svg: ${r.status}`)))),
  ]);
  topology = summary;
  for (const node of summary.nodes)
    if (node.kind === 'queue' || node.kind === 'dlq') queueRow(node.displayName, node.kind === 'dlq');
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  const graph = $('#graph');
  const drawing = document.importNode(doc.documentElement, true);
  graph.replaceChildren(drawing);
  // Fit the width, but shrink a wide graph no further than 60 % of its size: past that, scroll.
  const natural = (Number.parseFloat(drawing.getAttribute('width')) * 4) / 3;
  const room = graph.clientWidth;
  if (natural > 0 && room > 0) drawing.style.width = `${Math.min(natural, Math.max(room, natural * 0.6))}px`;
  for (const text of graph.querySelectorAll('text.slot')) {
    const id = text.getAttribute('data-slot');
    if (!slots.has(id)) slots.set(id, []);
    slots.get(id)[Number(text.getAttribute('data-line'))] = text;
  }
}

function writeSlot(id, lines, state) {
  const texts = slots.get(id);
  if (!texts) return;
  // More lines than the slot has: the rest go on its last line.
  texts.forEach((text, i) => {
    text.textContent = i === texts.length - 1 ? lines.slice(i).join(' · ') : (lines[i] ?? '');
  });
  const group = document.getElementById(id);
  if (group && state) {
    group.classList.toggle('busy', Boolean(state.busy));
    group.classList.toggle('alert', Boolean(state.alert));
  }
}

function render(snapshot) {
  $('#elapsed').textContent = formatElapsed(snapshot.elapsedMs);
  $('#time-scale').textContent = snapshot.timeScale === 1 ? '×1 (real time)' : `×${snapshot.timeScale}`;
  $('[data-testid=published]').textContent = count(snapshot.published);
  $('[data-testid=throughput]').textContent = snapshot.throughput.toFixed(1);
  $('[data-testid=p50]').textContent = snapshot.published ? ms(snapshot.p50Ms) : '–';
  $('[data-testid=p99]').textContent = snapshot.published ? ms(snapshot.p99Ms) : '–';

  for (const [name, q] of Object.entries(snapshot.queues)) {
    const row = rows.get(name) ?? queueRow(name, false);
    for (const field of QUEUE_FIELDS) {
      const cell = row.querySelector(`[data-field=${field}]`);
      cell.textContent = count(q[field]);
      if (field === 'deadLettered') cell.classList.toggle('bad', q[field] > 0);
    }
  }
  for (const node of topology.nodes) {
    if (node.kind === 'topic') {
      writeSlot(node.id, [`${count(snapshot.topics[node.displayName]?.published)} published`]);
    } else if (node.kind === 'function') {
      const f = snapshot.functions[node.displayName] ?? { invocations: 0, errors: 0, running: 0 };
      writeSlot(node.id, [`${count(f.invocations)} runs · ${count(f.errors)} errors · ${f.running} running`], {
        busy: f.running > 0,
        alert: f.errors > 0,
      });
    } else {
      const q = snapshot.queues[node.displayName];
      if (!q) continue;
      const lines =
        node.kind === 'dlq'
          ? [`${count(q.depth)} waiting`]
          : [
              `${count(q.depth)} waiting · ${count(q.inFlight)} in flight`,
              `${count(q.succeeded)} ok · ${count(q.retried)} retried · ${count(q.deadLettered)} DLQ`,
            ];
      writeSlot(node.id, lines, {
        busy: q.inFlight > 0,
        alert: node.kind === 'dlq' ? q.depth > 0 : q.deadLettered > 0,
      });
    }
  }
  for (const edge of topology.edges) {
    if (edge.kind !== 'subscription') continue;
    const s = snapshot.subscriptions[edge.displayName];
    if (s) writeSlot(edge.id, [`${count(s.delivered)} delivered · ${count(s.filtered)} filtered`]);
  }
}

async function refreshMessages() {
  if (messagesPending) return;
  messagesPending = true;
  try {
    const { messageIds } = await fetch('/api/messages?limit=50').then((r) => r.json());
    const key = messageIds.join('\n');
    if (key === lastMessages) return;
    lastMessages = key;
    const list = $('#messages');
    if (messageIds.length === 0) return list.replaceChildren(el('li', { class: 'empty' }, 'none yet'));
    list.replaceChildren(
      ...messageIds.map((id) =>
        el(
          'li',
          {},
          el(
            'button',
            {
              type: 'button',
              title: id,
              'data-message-id': id,
              'aria-pressed': String(id === selected),
              onclick: () => select(id),
            },
            id,
          ),
        ),
      ),
    );
  } finally {
    messagesPending = false;
  }
}

function select(id) {
  selected = id;
  history.replaceState(null, '', `#message=${encodeURIComponent(id)}`);
  for (const b of document.querySelectorAll('#messages button'))
    b.setAttribute('aria-pressed', String(b.dataset.messageId === id));
  showTrace(id);
}

/** One line of the timeline: [type label, tone, description, details]. */
function describe(e) {
  switch (e.type) {
    case 'published':
      return [
        'published',
        '',
        `to ${e.targetKind} ${e.target}${e.groupId ? ` (group ${e.groupId})` : ''}${e.by ? ` by ${e.by}` : ''}`,
      ];
    case 'routed':
      return e.delivered
        ? ['routed', 'ok', `via ${e.subscription} to queue ${e.queue}`]
        : ['filtered', 'warn', `by ${e.subscription} (queue ${e.queue})${e.reason ? `: ${e.reason}` : ''}`];
    case 'received':
      return ['received', '', `from ${e.queue}, receive #${e.receiveCount}${e.groupId ? `, group ${e.groupId}` : ''}`];
    case 'attempt': {
      const tone = e.recordFailed ? 'bad' : 'ok';
      const head = `${e.function} on ${e.queue}: ${e.outcome}${e.recordFailed && e.outcome === 'partial' ? ' (this record failed)' : ''} in ${ms(e.durationMs)}, receive #${e.receiveCount}`;
      const details = [e.error ? `error: ${e.error}` : '', ...e.logs].filter(Boolean).join('\n');
      return ['attempt', tone, head, details];
    }
    case 'deleted':
      return ['deleted', 'ok', `from ${e.queue}, ${ms(e.latencyMs)} after it was sent`];
    case 'retry-scheduled':
      return [
        'retry',
        'warn',
        `${e.queue} gives it back after the visibility timeout (receive #${e.receiveCount} failed)`,
      ];
    case 'dead-lettered':
      return ['dead-lettered', 'bad', `from ${e.queue} to ${e.deadLetterQueue} after ${e.receiveCount} receives`];
    default:
      return [e.type, '', JSON.stringify(e)];
  }
}

async function showTrace(id) {
  const panel = $('#trace');
  const res = await fetch(`/api/trace/${encodeURIComponent(id)}`);
  if (id !== selected) return;
  const heading = el('h2', {}, 'Trace ', el('span', { class: 'id' }, id));
  if (!res.ok) {
    shownTrace = '';
    return panel.replaceChildren(
      heading,
      el('p', { class: 'empty' }, 'This message was not seen (or has been forgotten).'),
    );
  }
  const trace = await res.json();
  const key = `${id}\n${trace.events.length}`;
  if (key === shownTrace || id !== selected) return;
  shownTrace = key;
  const start = trace.events[0]?.at ?? 0;
  const items = trace.events.map((e) => {
    const [label, tone, text, details] = describe(e);
    return el(
      'li',
      { 'data-event': e.type },
      el('span', { class: 't' }, `+${ms(e.at - start)}`),
      el('span', { class: `type ${tone}` }, label),
      el('span', {}, text),
      details ? el('pre', {}, details) : undefined,
    );
  });
  const parts = [heading, el('ol', {}, ...items)];
  if (trace.truncated) parts.push(el('p', { class: 'empty' }, 'Older events were dropped to keep the trace bounded.'));
  panel.replaceChildren(...parts);
}

function connect() {
  const status = $('#status');
  const events = new EventSource('/api/events');
  let lastList = 0;
  events.onopen = () => {
    status.textContent = 'live';
    status.className = 'live';
  };
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'down';
  };
  events.onmessage = (message) => {
    render(JSON.parse(message.data));
    const now = Date.now();
    if (now - lastList >= 1000) {
      lastList = now;
      refreshMessages();
      if (selected) showTrace(selected);
    }
  };
}

loadTopology()
  .catch((error) =>
    $('#graph').replaceChildren(el('p', { class: 'empty' }, `The graph could not be drawn: ${error.message}`)),
  )
  .finally(() => {
    connect();
    const fromHash = /^#message=(.+)$/.exec(location.hash);
    if (fromHash) select(decodeURIComponent(fromHash[1]));
  });
