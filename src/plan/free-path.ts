// The skb's free path: functions the kernel runs on an skb while freeing it. The verdict tracepoints
// (kfree_skb, consume_skb) fire first; then __kfree_skb releases the skb's head state (its socket's
// destructor runs there), its data and head, and the skb itself. On function backends these points see the
// packet after its verdict, still marked: they continue the packet that has ended (its track id, its group
// in the writers), and never start a new one there (plan/late-free.ts: with tracking their programs trace
// tracked packets only; output/packet/tracker.ts).
// A destructor also runs earlier, when a packet leaves its socket (skb_orphan before a loopback transmit):
// there it is an ordinary point of a live packet.
import type { AttachPoint } from "./attach-points.js";

export const FREE_PATH_FUNCTIONS: ReadonlySet<string> = new Set([
  "__kfree_skb",
  "skb_release_all",
  "skb_release_head_state",
  "skb_release_data",
  "skb_free_head",
  "skb_free_frag",
  "kfree_skbmem",
  "napi_skb_cache_put",
  // destructors (skb->destructor, run by skb_release_head_state)
  "sock_wfree",
  "__sock_wfree",
  "tcp_wfree",
  "sock_rfree",
  "sock_efree",
  "sock_ofree",
  "sock_pfree",
  "sock_rmem_free",
  "unix_wfree",
  "unix_destruct_scm",
  "netlink_skb_destructor",
  "tpacket_destruct_skb",
  "xsk_destruct_skb",
]);

export function isFreePath(p: Pick<AttachPoint, "kind" | "name">): boolean {
  return p.kind === "function" && FREE_PATH_FUNCTIONS.has(p.name);
}
