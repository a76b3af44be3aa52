/**
 * Bounds the bytes held in memory at once (objects read, zip entries
 * inflated): work waits for room instead of running the container out of
 * memory. An item larger than the whole budget runs alone.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant(): void }[] = [];

  constructor(readonly totalBytes: number) {}

  /** Resolves with a release function once `bytes` fit. */
  async acquire(bytes: number): Promise<() => void> {
    const wanted = Math.min(Math.max(bytes, 0), this.totalBytes);
    if (this.waiting.length === 0 && this.used + wanted <= this.totalBytes) {
      this.used += wanted;
    } else {
      await new Promise<void>((grant) => this.waiting.push({ bytes: wanted, grant }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= wanted;
      this.admit();
    };
  }

  private admit(): void {
    // First come, first served: a large item is not starved by small ones.
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as { bytes: number; grant(): void };
      if (this.used + next.bytes > this.totalBytes) return;
      this.waiting.shift();
      this.used += next.bytes;
      next.grant();
    }
  }
}
