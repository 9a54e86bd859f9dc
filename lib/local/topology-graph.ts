/**
 * The app's message flow as a graph, drawn three ways: Mermaid (for docs and the terminal), Graphviz DOT and an
 * SVG rendered from it (for the live page).
 *
 * Nodes are topics, queues (dead-letter queues drawn apart) and functions; edges are SNS subscriptions (labelled
 * with their filter policy, compact, and `raw` for raw delivery), event source mappings (`batch 5, max 5`),
 * redrive policies (`after 3 receives`; a subscription's DLQ: `undeliverable`) and producers: a function whose role allows `sns:Publish` on a topic or
 * `sqs:SendMessage` on a queue.
 *
 * Every node and edge has a stable id, kept in the DOT and the SVG as the element id: `topic:<displayName>`,
 * `queue:<displayName>` (DLQs too), `function:<displayName>`, `subscription:<displayName>`,
 * `mapping:<displayName>`, `redrive:<queue displayName>` (`redrive:subscription:<displayName>` for a
 * subscription's DLQ), `produces:<function displayName>:<node id>`. In the SVG,
 * each node and each subscription edge also has a text slot, empty lines the live page writes counters into:
 * `<text class="slot" data-slot="<element id>" data-line="0">`.
 *
 * @example
 * const svg = await renderSvg(model);
 * console.log(toMermaid(model));
 *
 * @module
 */
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import type { AppModel, LocalFunction, PolicyStatement } from './app-model.js';

/** What a node stands for; decides its shape. */
export type TopologyNodeKind = 'topic' | 'queue' | 'dlq' | 'function';

/** What an edge stands for. */
export type TopologyEdgeKind = 'subscription' | 'mapping' | 'redrive' | 'produces';

/** One topic, queue or function of the graph. */
export interface TopologyNode {
  /** Stable element id, e.g. `queue:InferenceJobs`. */
  readonly id: string;
  readonly kind: TopologyNodeKind;
  /** The element's display name (for a function no mapping could resolve, its physical name). */
  readonly displayName: string;
  readonly fifo: boolean;
  /** Construct path; absent for a function the model does not define. */
  readonly path?: string;
}

/** One subscription, event source mapping, redrive policy or producer grant. */
export interface TopologyEdge {
  /** Stable element id, e.g. `subscription:ImagesSub`. */
  readonly id: string;
  readonly kind: TopologyEdgeKind;
  /** Node id of the tail. */
  readonly from: string;
  /** Node id of the head. */
  readonly to: string;
  /** Label lines, e.g. `['kind: image|text', 'raw']`; empty when the edge has none. */
  readonly label: readonly string[];
  /** For subscriptions and mappings, the model element's display name. */
  readonly displayName?: string;
  /** An event source mapping that is disabled. */
  readonly disabled?: boolean;
}

/** The graph {@link toMermaid}, {@link toDot} and the live page draw. */
export interface TopologyGraph {
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

/** Longest edge label line; longer ones are cut with `…`. */
const MAX_LABEL_LENGTH = 48;

/** Figure spaces (U+2007) reserve room for the counters the live page writes: digits are as wide. */
const FIGURE_SPACE = '\u2007';
const NODE_SLOT_WIDTH: Readonly<Record<TopologyNodeKind, readonly number[]>> = {
  topic: [14],
  queue: [24, 24],
  dlq: [14],
  function: [24],
};
const SUBSCRIPTION_SLOT_WIDTH = 20;

/** Builds the graph of an app model: nodes in model order (topics, queues, functions), then edges. */
export function buildTopology(model: AppModel): TopologyGraph {
  const nodes: TopologyNode[] = [];
  const edges: TopologyEdge[] = [];
  const nodeByArn = new Map<string, TopologyNode>();

  const deadLetterArns = new Set<string>();
  for (const q of model.queues) if (q.deadLetter) deadLetterArns.add(q.deadLetter.arn);
  for (const s of model.subscriptions) if (s.redriveDeadLetterArn) deadLetterArns.add(s.redriveDeadLetterArn);

  for (const t of model.topics) {
    const node: TopologyNode = {
      id: `topic:${t.displayName}`,
      kind: 'topic',
      displayName: t.displayName,
      fifo: t.fifo,
      path: t.path,
    };
    nodes.push(node);
    nodeByArn.set(t.arn, node);
  }
  for (const q of model.queues) {
    const dlq = q.deadLetterFor.length > 0 || deadLetterArns.has(q.arn);
    const node: TopologyNode = {
      id: `queue:${q.displayName}`,
      kind: dlq ? 'dlq' : 'queue',
      displayName: q.displayName,
      fifo: q.fifo,
      path: q.path,
    };
    nodes.push(node);
    nodeByArn.set(q.arn, node);
  }
  const functionNodes = new Map<string, TopologyNode>();
  for (const f of model.functions) {
    const node: TopologyNode = {
      id: `function:${f.displayName}`,
      kind: 'function',
      displayName: f.displayName,
      fifo: false,
      path: f.path,
    };
    nodes.push(node);
    functionNodes.set(f.name, node);
  }

  for (const s of model.subscriptions) {
    const topic = nodeByArn.get(s.topicArn);
    const queue = nodeByArn.get(s.queueArn);
    if (!topic || !queue) continue;
    const label = s.filterPolicy ? [describeFilterPolicy(s.filterPolicy, s.filterPolicyScope)] : [];
    if (s.rawMessageDelivery) label.push('raw');
    edges.push({
      id: `subscription:${s.displayName}`,
      kind: 'subscription',
      from: topic.id,
      to: queue.id,
      label,
      displayName: s.displayName,
    });
    const dlq = s.redriveDeadLetterArn && nodeByArn.get(s.redriveDeadLetterArn);
    if (dlq) {
      edges.push({
        id: `redrive:subscription:${s.displayName}`,
        kind: 'redrive',
        from: topic.id,
        to: dlq.id,
        label: ['undeliverable'],
        displayName: s.displayName,
      });
    }
  }

  for (const m of model.mappings) {
    const queue = nodeByArn.get(m.queueArn);
    if (!queue) continue;
    let fn = functionNodes.get(m.functionName);
    if (!fn) {
      // A function defined outside the app (imported by name): still drawn, so the queue's consumer shows.
      fn = { id: `function:${m.functionName}`, kind: 'function', displayName: m.functionName, fifo: false };
      nodes.push(fn);
      functionNodes.set(m.functionName, fn);
    }
    const label = [`batch ${m.batchSize}`];
    if (m.maxBatchingWindowSeconds > 0) label.push(`window ${m.maxBatchingWindowSeconds}s`);
    if (m.maxConcurrency !== undefined) label.push(`max ${m.maxConcurrency}`);
    edges.push({
      id: `mapping:${m.displayName}`,
      kind: 'mapping',
      from: queue.id,
      to: fn.id,
      label: [m.enabled ? label.join(', ') : `${label.join(', ')} (disabled)`],
      displayName: m.displayName,
      disabled: !m.enabled,
    });
  }

  for (const q of model.queues) {
    const dlq = q.deadLetter && nodeByArn.get(q.deadLetter.arn);
    if (!q.deadLetter || !dlq) continue;
    const n = q.deadLetter.maxReceiveCount;
    edges.push({
      id: `redrive:${q.displayName}`,
      kind: 'redrive',
      from: `queue:${q.displayName}`,
      to: dlq.id,
      label: [`after ${n} receive${n === 1 ? '' : 's'}`],
    });
  }

  for (const f of model.functions) {
    const from = functionNodes.get(f.name);
    if (!from) continue;
    for (const t of model.topics) {
      if (isAllowed(f, 'sns:Publish', t.arn)) {
        const to = `topic:${t.displayName}`;
        edges.push({ id: `produces:${f.displayName}:${to}`, kind: 'produces', from: from.id, to, label: [] });
      }
    }
    for (const q of model.queues) {
      if (isAllowed(f, 'sqs:SendMessage', q.arn)) {
        const to = `queue:${q.displayName}`;
        edges.push({ id: `produces:${f.displayName}:${to}`, kind: 'produces', from: from.id, to, label: [] });
      }
    }
  }
  return { nodes, edges };
}

/**
 * A filter policy in one short line: `kind: image|text` for message attributes, `body: priority=high` for the
 * body (nested keys joined with `.`), `$or` branches as `(a) or (b)`; operators compact (`img-*`, `!draft`,
 * `>=10`, `exists`, `absent`); cut at 48 characters.
 */
export function describeFilterPolicy(
  policy: Readonly<Record<string, unknown>>,
  scope: 'MessageAttributes' | 'MessageBody' = 'MessageAttributes',
): string {
  const body = scope === 'MessageBody';
  const text = describeConditions(policy, body, '');
  return truncate(body ? `body: ${text}` : text);
}

function describeConditions(policy: Readonly<Record<string, unknown>>, body: boolean, prefix: string): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or' && Array.isArray(value)) {
      parts.push(value.map((branch) => `(${describeConditions(asRecord(branch), body, prefix)})`).join(' or '));
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      parts.push(describeConditions(value as Record<string, unknown>, body, `${prefix}${key}.`));
    } else {
      const values = (Array.isArray(value) ? value : [value]).map(describeMatch).join('|');
      parts.push(body ? `${prefix}${key}=${values}` : `${prefix}${key}: ${values}`);
    }
  }
  return parts.join(', ');
}

function describeMatch(match: unknown): string {
  if (match === null || typeof match !== 'object') return String(match);
  const [operator, operand] = Object.entries(match as Record<string, unknown>)[0] ?? ['', ''];
  switch (operator) {
    case 'prefix':
      return `${describeMatch(operand)}*`;
    case 'suffix':
      return `*${describeMatch(operand)}`;
    case 'anything-but':
      return `!${(Array.isArray(operand) ? operand : [operand]).map(describeMatch).join('|')}`;
    case 'equals-ignore-case':
      return `~${String(operand)}`;
    case 'exists':
      return operand ? 'exists' : 'absent';
    case 'numeric': {
      const terms = Array.isArray(operand) ? operand : [];
      const out: string[] = [];
      for (let i = 0; i + 1 < terms.length; i += 2) out.push(`${terms[i] === '=' ? '=' : terms[i]}${terms[i + 1]}`);
      return out.join(' ');
    }
    default:
      // cidr, wildcard and anything newer: their operand reads well on its own.
      return typeof operand === 'object' ? JSON.stringify(operand) : String(operand);
  }
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function truncate(text: string): string {
  return text.length > MAX_LABEL_LENGTH ? `${text.slice(0, MAX_LABEL_LENGTH - 1)}…` : text;
}

/**
 * Whether one of the function's role policies allows `action` on `resource`, and none denies it. Reads `Action`
 * and `Resource` (string or array, `*` and `?` wildcards; actions case-insensitive); `NotAction`, `NotResource`
 * and conditions are not evaluated (a statement using them does not count).
 */
function isAllowed(fn: LocalFunction, action: string, resource: string): boolean {
  const statements = fn.role?.policies.flatMap((p) => p.Statement) ?? [];
  const matches = (s: PolicyStatement) =>
    s.NotAction === undefined &&
    s.NotResource === undefined &&
    list(s.Action).some((a) => globMatch(a.toLowerCase(), action.toLowerCase())) &&
    list(s.Resource).some((r) => globMatch(r, resource));
  const allowed = statements.some((s) => s.Effect === 'Allow' && s.Condition === undefined && matches(s));
  return allowed && !statements.some((s) => s.Effect === 'Deny' && matches(s));
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

// ---- Mermaid ------------------------------------------------------------------------------------------------

const MERMAID_SHAPE: Readonly<Record<TopologyNodeKind, readonly [string, string]>> = {
  topic: ['{{', '}}'],
  queue: ['[[', ']]'],
  dlq: ['[(', ')]'],
  function: ['([', '])'],
};

/**
 * The app's flow as a Mermaid flowchart, left to right: topics (hexagons) → queues (framed boxes) → functions
 * (stadiums), DLQs as cylinders behind dotted redrive edges, FIFO nodes with a `FIFO` line and the `fifo` class.
 * Node ids are Mermaid-safe (`t_`, `q_`, `f_` + the display name, other characters as `_`, deduplicated).
 */
export function toMermaid(model: AppModel): string {
  const graph = buildTopology(model);
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const node of graph.nodes) {
    const base = `${node.kind === 'dlq' ? 'q' : node.kind[0]}_${node.displayName.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(node.id, id);
  }
  const lines = ['flowchart LR'];
  for (const node of graph.nodes) {
    const [open, close] = MERMAID_SHAPE[node.kind];
    const label = node.fifo ? `${mermaidText(node.displayName)}<br/>FIFO` : mermaidText(node.displayName);
    lines.push(`  ${ids.get(node.id)}${open}"${label}"${close}:::${node.kind}`);
  }
  for (const edge of graph.edges) {
    const arrow = edge.kind === 'redrive' || edge.disabled ? '-.->' : edge.kind === 'produces' ? '==>' : '-->';
    const label = edge.label.length > 0 ? `|"${edge.label.map(mermaidText).join('<br/>')}"|` : '';
    lines.push(`  ${ids.get(edge.from)} ${arrow}${label} ${ids.get(edge.to)}`);
  }
  lines.push(
    '  classDef topic fill:#efe7fb,stroke:#7e57c2',
    '  classDef queue fill:#e6f0fb,stroke:#3f7fc1',
    '  classDef dlq fill:#fbe9e7,stroke:#c0504d',
    '  classDef function fill:#fdf3e0,stroke:#d68a1a',
    '  classDef fifo stroke-width:3px',
  );
  // `:::a b` is not Mermaid; a second class goes on its own line.
  const fifo = graph.nodes.filter((n) => n.fifo).map((n) => ids.get(n.id));
  if (fifo.length > 0) lines.push(`  class ${fifo.join(',')} fifo`);
  return `${lines.join('\n')}\n`;
}

/** Text inside a quoted Mermaid label: quotes, markup, `|` (it ends an edge label) and `#` as Mermaid entity codes. */
function mermaidText(text: string): string {
  return text.replace(/[#"<>&|]/g, (c) => `#${c.charCodeAt(0)};`);
}

// ---- Graphviz -----------------------------------------------------------------------------------------------

const DOT_NODE_STYLE: Readonly<Record<TopologyNodeKind, string>> = {
  topic: 'shape=hexagon, style=filled, fillcolor="#efe7fb", color="#7e57c2"',
  queue: 'shape=box, style="rounded,filled", fillcolor="#e6f0fb", color="#3f7fc1"',
  dlq: 'shape=cylinder, style=filled, fillcolor="#fbe9e7", color="#c0504d"',
  function: 'shape=component, style=filled, fillcolor="#fdf3e0", color="#d68a1a"',
};

const DOT_EDGE_STYLE: Readonly<Record<TopologyEdgeKind, string>> = {
  subscription: 'color="#7e57c2"',
  mapping: 'color="#3f7fc1"',
  redrive: 'style=dashed, color="#c0504d", fontcolor="#c0504d"',
  produces: 'color="#d68a1a", penwidth=1.6',
};

/**
 * The same graph as {@link toMermaid} in Graphviz DOT, left to right, with `id` attributes set to the stable
 * element ids and, under each node's name (and each subscription's label), lines of figure spaces that reserve
 * room for live counters.
 */
export function toDot(model: AppModel): string {
  const graph = buildTopology(model);
  const lines = [
    'digraph queuekit {',
    '  rankdir=LR; nodesep=0.35; ranksep=0.6; bgcolor="transparent";',
    '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11, margin="0.12,0.06", penwidth=1.2];',
    '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, fontcolor="#555555", arrowsize=0.7];',
  ];
  for (const node of graph.nodes) {
    const label = [node.displayName];
    if (node.fifo) label.push('FIFO');
    for (const width of NODE_SLOT_WIDTH[node.kind]) label.push(FIGURE_SPACE.repeat(width));
    const fifo = node.fifo ? ', peripheries=2' : '';
    lines.push(
      `  ${dotString(node.id)} [id=${dotString(node.id)}, label=${dotLabel(label)}, ${DOT_NODE_STYLE[node.kind]}${fifo}];`,
    );
  }
  for (const edge of graph.edges) {
    const label = [...edge.label];
    if (edge.kind === 'subscription') label.push(FIGURE_SPACE.repeat(SUBSCRIPTION_SLOT_WIDTH));
    const attrs = [`id=${dotString(edge.id)}`, DOT_EDGE_STYLE[edge.kind]];
    if (label.length > 0) attrs.push(`label=${dotLabel(label)}`);
    if (edge.disabled) attrs.push('style=dotted');
    lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/\n/g, ' ')}"`;
}

function dotLabel(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/[\\"]/g, '\\$&')).join('\\n')}"`;
}

let graphviz: Promise<Graphviz> | undefined;

/**
 * Renders {@link toDot} to SVG with Graphviz compiled to WebAssembly (loaded once per process). The result has no
 * XML prolog or doctype, so it can be inlined in HTML as is; node and edge groups keep their stable ids, each
 * node's name line has `class="name"` and the counter lines are `<text class="slot" data-slot="<element id>"
 * data-line="<n>">`.
 */
export async function renderSvg(model: AppModel): Promise<string> {
  graphviz ??= Graphviz.load();
  const svg = (await graphviz).dot(toDot(model), 'svg');
  return markSlots(svg.slice(svg.indexOf('<svg')));
}

/** Gives the counter lines and name lines of Graphviz's SVG their classes (see {@link renderSvg}). */
function markSlots(svg: string): string {
  return svg
    .replace(/&#45;/g, '-')
    .replace(
      /<g id="([^"]+)" class="(node|edge)">([\s\S]*?)<\/g>/g,
      (_group, id: string, kind: string, body: string) => {
        let line = 0;
        let first = true;
        const marked = body.replace(/<text ([^>]*)>([^<]*)<\/text>/g, (text, attrs: string, content: string) => {
          if (/^(?:\u2007|&#8199;)+$/.test(content)) {
            return `<text class="slot" data-slot="${id}" data-line="${line++}" ${attrs}>${content}</text>`;
          }
          if (kind === 'node' && first) {
            first = false;
            return `<text class="name" font-weight="bold" ${attrs}>${content}</text>`;
          }
          return text;
        });
        return `<g id="${id}" class="${kind}">${marked}</g>`;
      },
    );
}
