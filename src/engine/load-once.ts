/**
 * `load` behind a function that starts it on the first call and hands every later call the same promise, except
 * after a failure: a failed load is forgotten, so the next call tries again (a model file briefly unreadable must not
 * poison the thread for good).
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
