/**
 * Runs `work` over `items` in `lanes` concurrent lanes (the one batch loop of enroll, unnamed enroll and reembed):
 * each lane takes the next item as soon as its last one is done, so every inference worker stays busy while the next
 * photos are read and decoded. `onResult` sees each result in completion order. A lane stops taking items once
 * `signal` is aborted; a thrown error stops every lane taking new items, lets the items in flight finish, and is
 * thrown once they have. Results come back in completion order.
 */
export async function runInLanes<Item, Result>(
  items: readonly Item[],
  work: (item: Item, position: number) => Promise<Result>,
  options: { lanes: number; signal?: AbortSignal | undefined; onResult?: ((result: Result, done: number, total: number) => void) | undefined },
): Promise<Result[]> {
  const results: Result[] = [];
  let next = 0;
  let failed: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length && !options.signal?.aborted && failed === undefined) {
      const position = next++;
      const item = items[position] as Item;
      let result: Result;
      try {
        result = await work(item, position);
      } catch (error) {
        failed ??= { error };
        return;
      }
      results.push(result);
      options.onResult?.(result, results.length, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.lanes) }, lane));
  if (failed !== undefined) throw failed.error;
  return results;
}

/** Photos in flight at once for a process with `workers` inference threads: two each, at least two. */
export function lanesFor(workers: number | undefined): number {
  return Math.max(2, (workers ?? 2) * 2);
}
