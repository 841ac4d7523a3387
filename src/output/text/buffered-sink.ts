// Collects output and writes it in chunks of about 64 KiB: one write call per event would cost more than
// formatting the event. A live sink (stream, json) also writes what it holds once the current batch of
// records is done (a microtask), so events show up as they arrive even at a few per second.
import type { Sink } from "../types.js";

export const CHUNK = 64 * 1024;

export class BufferedSink {
  private parts: string[] = [];
  private size = 0;
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly out: Sink,
    private readonly live = false,
  ) {}

  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) this.flush();
    else if (this.live && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushLater);
    }
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const s = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    this.parts = [];
    this.size = 0;
    this.out.write(s);
  }
}
