/**
 * Group commit for the index: instances de-identified at about the same time
 * (the files of one SQS batch, the entries of one zip, parallel STOW calls)
 * are written in one transaction instead of one each. Callers announce an
 * instance before de-identifying it (`reserve`); a batch goes as soon as it
 * is full or nobody announced is still on the way, and never waits longer
 * than `lingerMs`. If a batch fails, its instances are retried one by one, so
 * one bad instance fails alone.
 */
import type { IndexOutcome, InstanceToIndex } from '../adapters/index-writer';

interface Waiting {
  item: InstanceToIndex;
  resolve(outcome: IndexOutcome): void;
  reject(error: unknown): void;
}

export interface IndexBatcherOptions {
  maxBatch: number;
  lingerMs: number;
  /** Transactions in flight at once (each holds a pool connection). */
  maxInFlight: number;
}

export class IndexBatcher {
  private pending: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Instances announced but not submitted yet. */
  private reserved = 0;

  constructor(
    private readonly write: (items: readonly InstanceToIndex[]) => Promise<IndexOutcome[]>,
    private readonly options: IndexBatcherOptions,
  ) {}

  /** Announces an instance on its way (being de-identified): the batch waits for it a little. */
  reserve(): { submit(item: InstanceToIndex): Promise<IndexOutcome>; cancel(): void } {
    this.reserved++;
    let open = true;
    const close = () => {
      if (open) this.reserved--;
      open = false;
    };
    return {
      submit: (item) => {
        close();
        return this.submit(item);
      },
      cancel: () => {
        close();
        this.schedule();
      },
    };
  }

  submit(item: InstanceToIndex): Promise<IndexOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    if (this.pending.length >= this.options.maxBatch || this.reserved === 0) {
      // Nobody else is coming: go now (after this tick, so submits of the same tick join).
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, 0);
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.options.lingerMs);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    const batch = this.pending.splice(0, this.options.maxBatch);
    this.inFlight++;
    void this.run(batch).finally(() => {
      this.inFlight--;
      this.schedule();
    });
  }

  private async run(batch: Waiting[]): Promise<void> {
    try {
      const outcomes = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(outcomes[i] as IndexOutcome));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const waiting of batch) {
        try {
          const [outcome] = await this.write([waiting.item]);
          waiting.resolve(outcome as IndexOutcome);
        } catch (single) {
          waiting.reject(single);
        }
      }
    }
  }
}
