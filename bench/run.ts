/**
 * `npm run bench` entry point. The benchmarks measure the Lambda runtime (producer throughput and requests per
 * message, FIFO batch wall time, CPU per record, bundle size) against Powertools and sqs-producer in the same
 * run; they land with the runtime itself (issue "Lambda runtime"). Until then this says so and measures nothing.
 */
console.log(
  'queuekit bench: no benchmarks yet. P1–P6 (producer requests/message and throughput vs sqs-producer, FIFO batch ' +
    'wall time and CPU per record vs Powertools, bundle size) come with lib/runtime; results will be written to ' +
    'bench/results.json.',
);
