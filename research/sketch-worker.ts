/**
 * The helper thread of research/sketch-kernel.ts (SketchHelper): instantiates the sketch kernel on the shared memory
 * it is given, then runs one kernel call each time the control block's start count moves, and counts it finished.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HELPER_OPS, instantiateSketchKernel, type SharedWasmMemory, type WasmModule } from './sketch-kernel.js';

const { module, memory, control: buffer } = workerData as { module: WasmModule; memory: SharedWasmMemory; control: SharedArrayBuffer };
const kernel = instantiateSketchKernel(module, memory);
const control = new Int32Array(buffer);
parentPort!.postMessage('ready');
for (let seen = 0; ; ) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  const op = HELPER_OPS[control[2]!];
  if (op === 'quit') break;
  const args = Array.from(control.subarray(3));
  if (op === 'sketchRows') kernel.sketchRows(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!);
  else if (op === 'hammingScan') {
    // args: query sketch, rows, count, chunks, distances, histogram: the scan of its rows, then their count.
    kernel.hammingScan(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!);
    kernel.histogram(args[4]!, args[2]!, args[5]!);
  }
  else if (op === 'squaredDistancesAt16') kernel.squaredDistancesAt16(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!);
  Atomics.store(control, 1, seen);
  Atomics.notify(control, 1);
}
