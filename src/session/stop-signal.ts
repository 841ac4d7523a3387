// One way to say "stop": SIGINT, SIGTERM, SIGHUP (the terminal or ssh session closed), the traced command
// exiting, or an error. Handlers are installed for the whole run, so a signal at any phase ends it cleanly
// instead of killing the process mid-attach.

export class StopSignal {
  stopped = false;
  reason = "";
  private readonly listeners: (() => void)[] = [];
  private readonly onSignal = (sig: NodeJS.Signals) => this.trigger(sig);

  install(): this {
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
    process.on("SIGHUP", this.onSignal);
    return this;
  }

  uninstall(): void {
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    process.off("SIGHUP", this.onSignal);
  }

  trigger(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    for (const l of this.listeners.splice(0)) l();
  }

  onStop(fn: () => void): void {
    if (this.stopped) fn();
    else this.listeners.push(fn);
  }
}
