// Worker entry for source-worker.test.ts: TypeScript syntax, so it runs only through tsx.
import { parentPort, workerData } from 'node:worker_threads';
const n: number = (workerData as { n: number }).n;
parentPort!.postMessage(`typescript ran: ${n + 1}`);
