// The "Not seen" line: its wording from the counts, only the non-zero parts, and the trace file's copy.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  lostFromStderr,
  type Unseen,
  unseenFileFields,
  unseenFromFile,
  unseenLine,
} from "../../src/output/unseen.js";
import { releaseAtLeast, skippedRuns } from "../../src/session/unseen-counts.js";

const NONE: Unseen = { lost: 0, skipped: 0, failed: 0, failedFirst: [], letGo: 0, trackMax: 65536 };

test("nothing missed: no line, and nothing for the trace file", () => {
  assert.equal(unseenLine(NONE), undefined);
  assert.equal(unseenFileFields(NONE), undefined);
  // Counts the kernel does not keep, no tracking: nothing either.
  const uncounted: Unseen = { lost: 0, failed: 0, failedFirst: [] };
  assert.equal(unseenLine(uncounted), undefined);
});

test("every part, in order, each counted in its own words", () => {
  const u: Unseen = {
    lost: 12,
    skipped: 3,
    failed: 2,
    failedFirst: ["ip_rcv_core: ENOENT", "ip_rcv: EBUSY"],
    letGo: 5,
    trackMax: 4,
  };
  assert.equal(
    unseenLine(u),
    "Not seen: 12 events lost (the ring buffer was full: a larger --ring-size, or fewer attach points), " +
      "3 program runs skipped by the kernel (recursion: a traced point was hit while a BPF program already ran on that CPU), " +
      "2 attach points failed (ip_rcv_core: ENOENT, ip_rcv: EBUSY; -v lists them), " +
      "5 packets let go by the tracking table (full at --track-max 4: followed no further; a larger --track-max keeps more)",
  );
});

test("one of each is singular; only the non-zero parts are said", () => {
  assert.equal(
    unseenLine({ ...NONE, lost: 1 }),
    "Not seen: 1 event lost (the ring buffer was full: a larger --ring-size, or fewer attach points)",
  );
  assert.equal(
    unseenLine({ ...NONE, skipped: 1 }),
    "Not seen: 1 program run skipped by the kernel (recursion: a traced point was hit while a BPF program already ran on that CPU)",
  );
  assert.equal(
    unseenLine({ ...NONE, failed: 1, failedFirst: ["tcp_v4_rcv: EINVAL"] }),
    "Not seen: 1 attach point failed (tcp_v4_rcv: EINVAL; -v lists them)",
  );
  assert.equal(
    unseenLine({ ...NONE, letGo: 1, trackMax: 8 }),
    "Not seen: 1 packet let go by the tracking table (full at --track-max 8: followed no further; a larger --track-max keeps more)",
  );
});

test("many failed attach points: the first few named, the rest counted", () => {
  assert.equal(
    unseenLine({ ...NONE, failed: 40, failedFirst: ["a: ENOENT", "b: ENOENT", "c: EINVAL"] }),
    "Not seen: 40 attach points failed (a: ENOENT, b: ENOENT, c: EINVAL and 37 more; -v lists them)",
  );
});

test("the trace file keeps the counts beside isb_ifdrop, and --read gets the same line back", () => {
  const u: Unseen = { lost: 7, skipped: 2, failed: 1, failedFirst: ["x: ENOENT"], letGo: 9, trackMax: 16 };
  const fields = unseenFileFields(u);
  assert.deepEqual(fields, {
    unseen: {
      runs_skipped: 2,
      attach_failed: 1,
      attach_failed_first: ["x: ENOENT"],
      let_go: 9,
      track_max: 16,
    },
  });
  // Round trip through JSON, as the file's comment carries it; lost comes from isb_ifdrop.
  const back = unseenFromFile(7, JSON.parse(JSON.stringify(fields)));
  assert.equal(unseenLine(back), unseenLine(u));
  // Lost events alone need no comment: isb_ifdrop holds them.
  assert.equal(unseenFileFields({ ...NONE, lost: 5 }), undefined);
  assert.equal(unseenLine(unseenFromFile(5, undefined)), unseenLine({ ...NONE, lost: 5 }));
  // A file from before (no comment) or with a malformed one: only what isb_ifdrop says.
  assert.equal(unseenLine(unseenFromFile(0, { unseen: { let_go: "many", runs_skipped: -1 } })), undefined);
});

test("lost events read back from stderr: this line, or an older build's", () => {
  assert.equal(lostFromStderr(`x\n${unseenLine({ ...NONE, lost: 12, letGo: 3 })}\n`), 12);
  assert.equal(lostFromStderr(unseenLine({ ...NONE, lost: 1 })!), 1);
  assert.equal(lostFromStderr("ipft: Lost 4 traces (the ring buffer was full; ...)"), 4);
  assert.equal(lostFromStderr(unseenLine({ ...NONE, letGo: 3 })!), 0);
});

test("skipped runs: said when either count is kept, summed; undefined when neither is", () => {
  assert.equal(skippedRuns({ from: [] }, { from: [] }).count, undefined);
  assert.equal(skippedRuns({ count: 0, from: ["a"] }, { from: [] }).count, 0);
  assert.equal(skippedRuns({ count: 2, from: ["a"] }, { count: 3, from: ["b"] }).count, 5);
  assert.ok(releaseAtLeast("6.12.0-31-amd64", 6, 7));
  assert.ok(releaseAtLeast("6.7.0", 6, 7));
  assert.ok(!releaseAtLeast("6.6.58", 6, 7));
  assert.ok(!releaseAtLeast("5.19.0", 6, 7));
  assert.ok(releaseAtLeast("7.0.1", 6, 7));
});
