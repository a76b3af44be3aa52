/**
 * Calls made at the same moment, answered by one batched call: what an
 * adapter uses to turn N single-row statements of concurrent callers (the
 * records of one SQS batch start together and finish together) into one
 * round trip. Calls are gathered until the current macrotask and its
 * microtasks are done (setImmediate), so no caller waits for a timer.
 * A failure of the batched call fails every call of the batch.
 */
export function coalesceCalls<A, R>(runBatch: (args: readonly A[]) => Promise<readonly R[]>): (arg: A) => Promise<R> {
  let waiting: { arg: A; resolve(result: R): void; reject(error: unknown): void }[] = [];
  const flush = () => {
    const batch = waiting;
    waiting = [];
    runBatch(batch.map((w) => w.arg)).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i] as R)),
      (error: unknown) => batch.forEach((w) => w.reject(error)),
    );
  };
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(flush);
      waiting.push({ arg, resolve, reject });
    });
}
