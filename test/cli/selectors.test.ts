// The selectors are described twice by necessity (the program's eBPF below the command line's options): each
// flag a program selector claims is an option of cli/selectors.ts, and each such option belongs to one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SELECTOR_OPTIONS } from "../../src/cli/selectors.js";
import { SELECTORS } from "../../src/program/selectors/index.js";

test("every selector's flags are the command line's selector options, each claimed once", () => {
  const options = SELECTOR_OPTIONS.flatMap((s) => [`--${s.long}`, ...(s.short ? [`-${s.short}`] : [])]);
  const claimed = SELECTORS.flatMap((s) => s.flags.filter((f) => f.startsWith("-")));
  for (const f of claimed) assert.ok(options.includes(f), `${f} is not an option of cli/selectors.ts`);
  for (const s of SELECTOR_OPTIONS) {
    const owners = SELECTORS.filter(
      (x) => x.flags.includes(`--${s.long}`) || x.flags.includes(`-${s.short}`),
    );
    assert.equal(owners.length, 1, `--${s.long}: claimed by ${owners.length} selectors`);
  }
});
