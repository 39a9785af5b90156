/** A promise settled from outside, with one re-armable timer. */
export class PendingResult<T> {
  readonly promise: Promise<T>;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (err: Error) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  get done(): boolean {
    return this.settled;
  }

  /** (Re)starts the timer; `onTimeout` runs once unless the result settles first. */
  arm(ms: number, onTimeout: () => void): void {
    if (this.settled) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (!this.settled) onTimeout();
      },
      Math.max(0, ms),
    );
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolveFn(value);
  }

  reject(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.rejectFn(err);
  }
}
