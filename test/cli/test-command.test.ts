import assert from "node:assert/strict";
import { test } from "node:test";
import { notChecked } from "../../src/cli/commands/test.js";
import type { BackendName } from "../../src/core/names.js";
import type { Built } from "../../src/session/build.js";

function built(used: BackendName[], attaches: BackendName[]): Pick<Built, "backends" | "features"> {
  const all: BackendName[] = ["kprobe", "kprobe-multi", "ftrace", "tracepoint"];
  return {
    backends: used.map((name) => ({ backend: { name } as Built["backends"][number]["backend"], units: [] })),
    features: {
      backends: new Map(
        all.map((name) => [
          name,
          {
            name,
            ok: attaches.includes(name),
            loads: true,
            reason: attaches.includes(name) ? "attached" : `no ${name} here`,
          },
        ]),
      ),
      probeRead: 113,
      kprobeFuncIp: true,
    },
  };
}

test("--test says it did not attach, and which chosen backend this kernel cannot attach", () => {
  assert.equal(
    notChecked(built(["kprobe-multi", "tracepoint"], ["kprobe-multi", "tracepoint"])),
    "not checked: attaching (--test attaches nothing)",
  );
  assert.equal(
    notChecked(built(["kprobe", "tracepoint"], ["tracepoint"])),
    "not checked: attaching (--test attaches nothing); kprobe cannot attach on this kernel (no kprobe here), so a trace with -b kprobe fails here",
  );
});
