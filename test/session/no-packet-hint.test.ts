import assert from "node:assert/strict";
import { test } from "node:test";
import { noPacketHint } from "../../src/session/run.js";

const base = { mark: 1, mask: 0xffffffff, markTest: false };

test("without -m, the no-packet hint names the selectors as given and says only what concerns them", () => {
  const dev = noPacketHint({ ...base, ifname: "nosuch0" });
  assert.match(
    dev,
    /^no packet matched device nosuch0\. Is the device in another network namespace \(add --netns\)\? /,
  );
  assert.doesNotMatch(dev, /filter|linear/, "no filter was given");

  const ns = noPacketHint({ ...base, netns: "blue", netnsInum: 4026532481, ifname: "veth1" });
  assert.match(ns, /^no packet matched namespace blue and device veth1\. Run ipft --features/);
  assert.doesNotMatch(ns, /4026532481/, "the namespace as the user named it, not its inode");
  assert.equal(
    noPacketHint({ ...base, netnsInum: 4026532481 }).split(".")[0],
    "no packet matched namespace 4026532481",
  );

  const f = noPacketHint({
    ...base,
    filter: { expr: "icmp", ethernet: [] },
  });
  assert.match(f, /^no packet matched the filter "icmp"\. A filter sees the packet's linear part/);
  assert.doesNotMatch(f, /--netns/);
});
