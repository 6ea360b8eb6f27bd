/**
 * Lines gathered for one write. A ring batch can hold thousands of records:
 * kept until its end, their lines survive the young-generation collections
 * in its middle and are copied (most of `wirelens tcp`'s CPU at ~40k records
 * a second went there). Written every `max` lines, they die young.
 */
export class LineBatch {
  private lines: string[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly max = 256,
  ) {}

  get size(): number {
    return this.lines.length;
  }

  /** Adds a line (with its newline); writes the batch once it holds `max`. */
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length >= this.max) this.flush();
  }

  /** Writes what is held, in order. */
  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    this.write(text);
  }
}
