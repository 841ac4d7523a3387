// --read prints a saved trace: only the output options make sense with it.
import { UsageError } from "../core/errors.js";
import type { Options } from "./options.js";

/** --read takes the output options only: the rest are about tracing. */
export function validateRead(o: Options): void {
  const tracing: [boolean, string][] = [
    [o.mark !== undefined, "-m"],
    [o.filterExpr !== undefined, "a packet filter"],
    [o.netnsInum !== undefined, "--netns"],
    [o.ifname !== undefined, "--ifname"],
    [o.ifindex !== undefined, "--ifindex"],
    [o.write !== undefined, "-w"],
    [o.snaplen !== undefined, "--snaplen"],
    [o.stack !== "off", "--stack"],
    [o.script !== undefined, "-s"],
    [o.capture.length > 0, "-c"],
    [o.regex !== undefined, "-r"],
    [o.backend !== undefined, "-b"],
    [o.command.length > 0, "-- COMMAND"],
  ];
  const used = tracing.filter(([on]) => on).map(([, flag]) => flag);
  if (used.length > 0)
    throw new UsageError(
      `--read prints a saved trace: ${used.join(", ")} ${used.length > 1 ? "are" : "is"} for tracing (--read takes -o, --time, --layout, --drops, --drops-memory, --max-traces and --host-names)`,
    );
}
