/**
 * Child-process entry: starts fauxqs on 127.0.0.1 (a port the OS picks), prints `{"port":…}` on one stdout line,
 * and serves until SIGTERM/SIGINT or until its stdin closes (the parent went away). The benchmarks run the
 * emulator in its own process so its CPU is not charged to the client being measured.
 *
 * Run by `bench/emulator.ts`; by hand: `tsx bench/emulator-process.ts`.
 *
 * @module
 */
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false, defaultRegion: 'us-east-1' });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
if (address === null || typeof address === 'string') {
  await app.close();
  throw new Error(`fauxqs did not bind a TCP port (address: ${String(address)})`);
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
