// A status line rewritten in place (upstream's "Attaching program (...)" line). Plain lines when stderr is
// not a terminal, and then only the last state.
import type { SessionIo } from "./io.js";

export class ProgressLine {
  private last = "";
  private lastDraw = 0;

  constructor(private readonly io: SessionIo) {}

  update(text: string, force = false): void {
    this.last = text;
    if (!this.io.interactive) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    this.io.errSink.write(`\r\x1b[K${text}`);
  }

  /** Leaves the final state on its own line. */
  done(): void {
    if (!this.last) return;
    this.io.errSink.write(this.io.interactive ? `\r\x1b[K${this.last}\n` : `${this.last}\n`);
    this.last = "";
  }
}
