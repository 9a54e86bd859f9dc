import { describe, expect, it } from 'vitest';
import type {
  AppModel,
  LocalEventSourceMapping,
  LocalFunction,
  LocalQueue,
  LocalSubscription,
  LocalTopic,
  PolicyStatement,
} from '../../lib/local/app-model.js';
import { buildTopology, describeFilterPolicy, renderSvg, toDot, toMermaid } from '../../lib/local/topology-graph.js';

const STACK = 'Demo';
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const element = (displayName: string, suffix: string) => ({
  logicalId: `${displayName.replace(/\W/g, '')}${suffix}`,
  stackName: STACK,
  path: `${STACK}/${displayName}/${suffix}`,
  displayName,
});

function queue(displayName: string, opts: { fifo?: boolean; dlq?: [LocalQueue, number] } = {}): LocalQueue {
  const name = `${STACK}-${displayName}${opts.fifo ? '.fifo' : ''}`;
  const q: LocalQueue = {
    ...element(displayName, 'Queue'),
    name,
    arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
    url: `http://127.0.0.1:4566/${ACCOUNT}/${name}`,
    fifo: opts.fifo ?? false,
    attributes: {},
    deadLetterFor: [],
    ...(opts.dlq && { deadLetter: { arn: opts.dlq[0].arn, maxReceiveCount: opts.dlq[1] } }),
  };
  opts.dlq?.[0].deadLetterFor.push(q.arn);
  return q;
}

function topic(displayName: string, fifo = false): LocalTopic {
  const name = `${STACK}-${displayName}${fifo ? '.fifo' : ''}`;
  return {
    ...element(displayName, 'Topic'),
    name,
    arn: `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`,
    fifo,
    attributes: {},
  };
}

function subscription(
  displayName: string,
  from: LocalTopic,
  to: LocalQueue,
  opts: Partial<Pick<LocalSubscription, 'rawMessageDelivery' | 'filterPolicy' | 'filterPolicyScope'>> = {},
): LocalSubscription {
  return {
    ...element(displayName, 'Subscription'),
    topicArn: from.arn,
    queueArn: to.arn,
    rawMessageDelivery: opts.rawMessageDelivery ?? false,
    filterPolicyScope: opts.filterPolicyScope ?? 'MessageAttributes',
    ...(opts.filterPolicy && { filterPolicy: opts.filterPolicy }),
  };
}

function fn(displayName: string, statements: PolicyStatement[] = []): LocalFunction {
  const name = `${STACK}-${displayName}`;
  return {
    ...element(displayName, 'Function'),
    name,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    handler: 'index.handler',
    codeDir: `/tmp/cdk.out/asset.${displayName}`,
    runtime: 'nodejs22.x',
    timeoutSeconds: 30,
    memoryMb: 256,
    environment: {},
    role: {
      arn: `arn:aws:iam::${ACCOUNT}:role/${name}Role`,
      name: `${name}Role`,
      policies: [{ Statement: statements }],
    },
  };
}

function mapping(
  f: LocalFunction,
  q: LocalQueue,
  opts: Partial<Omit<LocalEventSourceMapping, keyof ReturnType<typeof element>>> = {},
): LocalEventSourceMapping {
  return {
    ...element(`${f.displayName}Source`, 'Mapping'),
    functionName: f.name,
    queueArn: q.arn,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    enabled: true,
    ...opts,
  };
}

/** Two topics, a filtered and a raw body-filtered subscription, a FIFO queue, DLQs, consumers and producers. */
function sampleModel(): AppModel {
  const uploads = topic('Uploads');
  const orders = topic('Orders', true);
  const imagesDlq = queue('ImagesDlq');
  const images = queue('Images', { dlq: [imagesDlq, 3] });
  const texts = queue('Texts');
  const orderDlq = queue('OrderDlq', { fifo: true });
  const orderQueue = queue('OrderQueue', { fifo: true, dlq: [orderDlq, 1] });
  const imageWorker = fn('ImageWorker', [
    { Effect: 'Allow', Action: 'sns:Publish', Resource: orders.arn },
    // Consuming is not producing.
    { Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: images.arn },
  ]);
  const textWorker = fn('TextWorker', [
    {
      Effect: 'Allow',
      Action: ['sqs:Send*', 'sqs:GetQueueUrl'],
      Resource: [`arn:aws:sqs:${REGION}:${ACCOUNT}:${STACK}-*`],
    },
    { Effect: 'Deny', Action: 'sqs:*', Resource: imagesDlq.arn },
  ]);
  const orderWorker = fn('OrderWorker');
  const ingest = fn('Audit-Ingest', [
    { Effect: 'Allow', Action: ['SNS:Publish'], Resource: [uploads.arn] },
    // Conditions are not evaluated: such a statement draws no edge.
    {
      Effect: 'Allow',
      Action: 'sns:Publish',
      Resource: orders.arn,
      Condition: { Bool: { 'aws:SecureTransport': 'true' } },
    },
  ]);
  return {
    region: REGION,
    accountId: ACCOUNT,
    stacks: [STACK],
    topics: [uploads, orders],
    queues: [images, imagesDlq, texts, orderQueue, orderDlq],
    subscriptions: [
      subscription('ImagesSub', uploads, images, { filterPolicy: { kind: ['image', 'text'] } }),
      subscription('TextsSub', uploads, texts, {
        rawMessageDelivery: true,
        filterPolicyScope: 'MessageBody',
        filterPolicy: { priority: ['high'] },
      }),
      {
        ...subscription('OrdersSub', orders, orderQueue, { rawMessageDelivery: true }),
        redriveDeadLetterArn: orderDlq.arn,
      },
    ],
    functions: [imageWorker, textWorker, orderWorker, ingest],
    mappings: [
      mapping(imageWorker, images, { batchSize: 5, maxConcurrency: 5 }),
      mapping(textWorker, texts),
      mapping(orderWorker, orderQueue, { batchSize: 1, maxBatchingWindowSeconds: 2, enabled: false }),
    ],
    unemulated: [],
  };
}

describe('toMermaid', () => {
  const mermaid = toMermaid(sampleModel());
  const lines = mermaid.split('\n').map((l) => l.trim());

  it('is a left-to-right flowchart with one shape per kind', () => {
    expect(lines[0]).toBe('flowchart LR');
    expect(lines).toContain('t_Uploads{{"Uploads"}}:::topic');
    expect(lines).toContain('q_Images[["Images"]]:::queue');
    expect(lines).toContain('q_ImagesDlq[("ImagesDlq")]:::dlq');
    expect(lines).toContain('f_ImageWorker(["ImageWorker"]):::function');
  });

  it('marks FIFO topics and queues', () => {
    expect(lines).toContain('t_Orders{{"Orders<br/>FIFO"}}:::topic');
    expect(lines).toContain('q_OrderQueue[["OrderQueue<br/>FIFO"]]:::queue');
    expect(lines).toContain('q_OrderDlq[("OrderDlq<br/>FIFO")]:::dlq');
    expect(
      lines
        .find((l) => l.startsWith('class '))
        ?.split(' ')[1]
        ?.split(',')
        .sort(),
    ).toEqual(['q_OrderDlq', 'q_OrderQueue', 't_Orders'].sort());
  });

  it('labels subscriptions with their filter policy and raw delivery', () => {
    expect(lines).toContain('t_Uploads -->|"kind: image#124;text"| q_Images');
    expect(lines).toContain('t_Uploads -->|"body: priority=high<br/>raw"| q_Texts');
    expect(lines).toContain('t_Orders -->|"raw"| q_OrderQueue');
  });

  it('labels event source mappings with batch size, window and maximum concurrency', () => {
    expect(lines).toContain('q_Images -->|"batch 5, max 5"| f_ImageWorker');
    expect(lines).toContain('q_Texts -->|"batch 10"| f_TextWorker');
    // Disabled: dotted, and says so.
    expect(lines).toContain('q_OrderQueue -.->|"batch 1, window 2s (disabled)"| f_OrderWorker');
  });

  it('draws redrive policies as dotted edges to the DLQ', () => {
    expect(lines).toContain('q_Images -.->|"after 3 receives"| q_ImagesDlq');
    expect(lines).toContain('q_OrderQueue -.->|"after 1 receive"| q_OrderDlq');
    // A subscription's own DLQ, for deliveries SNS could not make.
    expect(lines).toContain('t_Orders -.->|"undeliverable"| q_OrderDlq');
  });

  it('draws producers from role policies: exact ARNs, wildcards, case-insensitive actions, denies win', () => {
    const producers = lines.filter((l) => l.includes('==>')).sort();
    expect(producers).toEqual(
      [
        'f_Audit_Ingest ==> t_Uploads',
        'f_ImageWorker ==> t_Orders',
        // Demo-* matches every queue but the denied DLQ.
        'f_TextWorker ==> q_Images',
        'f_TextWorker ==> q_OrderDlq',
        'f_TextWorker ==> q_OrderQueue',
        'f_TextWorker ==> q_Texts',
      ].sort(),
    );
  });

  it('uses Mermaid-safe node ids', () => {
    const ids = lines.slice(1).flatMap((l) => l.match(/^([^\s{[(]+)[{[(]/)?.[1] ?? []);
    expect(ids).toHaveLength(11);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
  });

  it('escapes quotes and markup in labels and keeps ids unique', () => {
    const model = sampleModel();
    const weird = {
      ...model,
      subscriptions: [
        subscription('Weird', model.topics[0]!, model.queues[2]!, { filterPolicy: { note: ['say "hi"', '<b>'] } }),
      ],
      queues: [...model.queues, queue('Texts!'), queue('Texts?')],
    };
    const text = toMermaid(weird);
    expect(text).toContain('|"note: say #34;hi#34;#124;#60;b#62;"|');
    expect(text).toContain('q_Texts_[["Texts!"]]');
    expect(text).toContain('q_Texts__2[["Texts?"]]');
  });
});

describe('describeFilterPolicy', () => {
  it('writes operators compactly', () => {
    expect(
      describeFilterPolicy({
        kind: [{ prefix: 'img-' }, { suffix: '.png' }],
        status: [{ 'anything-but': ['draft', 'deleted'] }],
      }),
    ).toBe('kind: img-*|*.png, status: !draft|deleted');
    expect(describeFilterPolicy({ size: [{ numeric: ['>=', 10, '<', 20] }], trace: [{ exists: false }] })).toBe(
      'size: >=10 <20, trace: absent',
    );
    expect(
      describeFilterPolicy({ tier: [{ 'equals-ignore-case': 'gold' }, 5, true], ip: [{ cidr: '10.0.0.0/8' }] }),
    ).toBe('tier: ~gold|5|true, ip: 10.0.0.0/8');
  });

  it('joins nested body keys with dots and $or branches with "or"', () => {
    expect(describeFilterPolicy({ order: { priority: ['high'] } }, 'MessageBody')).toBe('body: order.priority=high');
    expect(describeFilterPolicy({ $or: [{ a: ['1'] }, { b: ['2'] }] })).toBe('(a: 1) or (b: 2)');
  });

  it('cuts long policies', () => {
    const text = describeFilterPolicy({ region: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'us-east-1'] });
    expect(text).toHaveLength(48);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('buildTopology', () => {
  it('gives every node and edge a stable id', () => {
    const graph = buildTopology(sampleModel());
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'topic:Uploads',
      'topic:Orders',
      'queue:Images',
      'queue:ImagesDlq',
      'queue:Texts',
      'queue:OrderQueue',
      'queue:OrderDlq',
      'function:ImageWorker',
      'function:TextWorker',
      'function:OrderWorker',
      'function:Audit-Ingest',
    ]);
    expect(graph.nodes.filter((n) => n.kind === 'dlq').map((n) => n.displayName)).toEqual(['ImagesDlq', 'OrderDlq']);
    expect(graph.edges.map((e) => e.id)).toContain('subscription:ImagesSub');
    expect(graph.edges.map((e) => e.id)).toContain('mapping:ImageWorkerSource');
    expect(graph.edges.map((e) => e.id)).toContain('redrive:Images');
    expect(graph.edges.map((e) => e.id)).toContain('redrive:subscription:OrdersSub');
    expect(graph.edges.map((e) => e.id)).toContain('produces:Audit-Ingest:topic:Uploads');
  });

  it('draws a consumer the app does not define under its physical name', () => {
    const model = sampleModel();
    const graph = buildTopology({ ...model, functions: model.functions.slice(1) });
    expect(graph.nodes.map((n) => n.id)).toContain('function:Demo-ImageWorker');
    expect(graph.edges.find((e) => e.id === 'mapping:ImageWorkerSource')?.to).toBe('function:Demo-ImageWorker');
  });
});

describe('toDot and renderSvg', () => {
  it('writes DOT with element ids and counter slots', () => {
    const dot = toDot(sampleModel());
    expect(dot).toContain('rankdir=LR');
    expect(dot).toContain('"queue:Images" [id="queue:Images", label="Images\\n\u2007');
    expect(dot).toContain('"topic:Uploads" -> "queue:Images" [id="subscription:ImagesSub"');
    expect(dot).toMatch(/"queue:OrderQueue" \[id="queue:OrderQueue", label="OrderQueue\\nFIFO\\n[^"]*".*peripheries=2/);
  });

  it('renders an SVG with every node id, edge id and counter slot', async () => {
    const model = sampleModel();
    const svg = await renderSvg(model);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const node of buildTopology(model).nodes) {
      expect(svg).toContain(`<g id="${node.id}" class="node">`);
      expect(svg).toContain(`class="slot" data-slot="${node.id}" data-line="0"`);
    }
    expect(svg).toContain('class="slot" data-slot="queue:Images" data-line="1"');
    expect(svg).toContain('<g id="subscription:ImagesSub" class="edge">');
    expect(svg).toContain('class="slot" data-slot="subscription:ImagesSub" data-line="0"');
    expect(svg).toContain('>kind: image|text</text>');
    // Graphviz is loaded once: a second render is fast.
    const started = performance.now();
    await renderSvg(model);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
