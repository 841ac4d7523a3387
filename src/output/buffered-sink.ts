// Collects output and writes it in chunks of about 64 KiB: one write call per event would cost more than
// formatting the event.
import type { Sink } from "./types.js";

const CHUNK = 64 * 1024;

export class BufferedSink {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly out: Sink) {}

  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.out.write(this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }
}
