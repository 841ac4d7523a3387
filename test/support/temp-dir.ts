// Temporary directories for tests, removed when the test's process exits, whatever its tests' outcome.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new directory under the system's temporary one, named PREFIX-XXXXXX. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.push(d);
  return d;
}
