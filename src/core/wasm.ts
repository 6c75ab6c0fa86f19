/**
 * The part of the WebAssembly API facedb's kernels use (l2-kernel.ts, sketch-rows.ts): @types/node 20 does not
 * declare it and lib.dom is not loaded. Each kernel is a module of a few hundred bytes, compiled synchronously once.
 */

export const PAGE_BYTES = 65_536;
/** wasm32 addresses 4 GiB at most. */
export const MAX_PAGES = 65_536;

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmModule {
  readonly kind: 'module';
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const compiled = new Map<string, WasmModule>();

/** A fresh growable memory and an instance of the kernel whose bytes are `base64`, over that memory. */
export function instantiateKernel(base64: string): { memory: WasmMemory; exports: Record<string, unknown> } {
  let module = compiled.get(base64);
  if (module === undefined) {
    module = new wasm.Module(Buffer.from(base64, 'base64'));
    compiled.set(base64, module);
  }
  const memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES });
  return { memory, exports: new wasm.Instance(module, { env: { memory } }).exports };
}

/** Grows `memory` to hold at least `bytes`; false when that is beyond wasm32's 4 GiB. */
export function growTo(memory: WasmMemory, bytes: number): boolean {
  const pages = Math.ceil(bytes / PAGE_BYTES);
  if (pages > MAX_PAGES) return false;
  const current = memory.buffer.byteLength / PAGE_BYTES;
  if (pages > current) memory.grow(pages - current);
  return true;
}

export function alignUp(value: number, alignment = 16): number {
  return Math.ceil(value / alignment) * alignment;
}
