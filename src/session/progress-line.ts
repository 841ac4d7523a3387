// A status line on stderr rewritten in place (upstream's "Attaching program (...)" line). Plain lines when
// stderr is not a terminal, and then only the last state.

export class ProgressLine {
  private last = "";
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;

  update(text: string, force = false): void {
    this.last = text;
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    process.stderr.write(`\r\x1b[K${text}`);
  }

  /** Leaves the final state on its own line. */
  done(): void {
    if (!this.last) return;
    process.stderr.write(this.tty ? `\r\x1b[K${this.last}\n` : `${this.last}\n`);
    this.last = "";
  }
}
