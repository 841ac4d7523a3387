// How a record's extras read (src/record/record.ts: --snaplen's packet bytes, --stack's return addresses).
// Stacks print under the event's line as a kernel prints one, innermost frame first:
//       at kfree_skb_reason+0x9d
//       at __udp4_lib_rcv+0x5e1
// and in json as `"stack":["kfree_skb_reason+0x9d",...]`. Packet bytes are json's `"packet"` (hex), with
// `"wire_len"`, `"link"` ("mac" or "network": where the bytes start) and `"cap_len"`; the text outputs
// leave them out (a pcapng file holds them for tools that decode packets). A record with the device part
// (-w) gets json's `"ifname"` ("" without a device), `"ifindex"` and `"netns"` (the namespace's inode).
import {
  DEVICE_JSON_KEYS,
  FIELDS,
  LINK_NETWORK,
  packetBytes,
  readCapLen,
  readDevice,
  readLink,
  readStackDepth,
  readWireLen,
  stackAddrs,
} from "../record/record.js";
import type { StackNamer } from "./types.js";

const [K_WIRE] = FIELDS.wireLen.json.map((k) => JSON.stringify(k));
const [K_LINK] = FIELDS.link.json.map((k) => JSON.stringify(k));
const [K_CAP, K_PACKET] = FIELDS.capLen.json.map((k) => JSON.stringify(k));
const [K_STACK] = FIELDS.stackDepth.json.map((k) => JSON.stringify(k));
const [K_IFNAME, K_IFINDEX, K_NETNS] = DEVICE_JSON_KEYS.map((k) => JSON.stringify(k));

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** The frames bpf_get_stack returns first are the tracing machinery's: ipft's program itself (a JIT
 * address kallsyms may not name), then the code that ran it (bpf_trace_run4 for a tracepoint, the kprobe,
 * fprobe or trampoline entry for the others). They are left out up to the first frame of the kernel's own
 * code: the function the event is in, which then reads first. */
const MACHINERY =
  /^(0x[0-9a-f]+$|bpf_prog_|bpf_trace_run|__bpf_trace_|__traceiter_|bpf_trampoline_|__bpf_prog_enter|kprobe_|kprobe_ftrace_handler|fprobe_|ftrace_|arch_ftrace_|rethook_|arch_rethook_|optimized_callback|opt_pre_handler|aggr_pre_handler|pre_handler_kretprobe|trace_call_bpf|kprobe_perf_func|kprobe_dispatcher|kprobe_multi_link_|ftrace_trampoline|ftrace_regs_caller|asm_exc_int3|exc_int3|do_int3)/;

/** Frames from the first one that is not the tracing machinery's (all of them if every one is). */
export function kernelFrames(names: string[]): string[] {
  let i = 0;
  while (i < names.length && MACHINERY.test(names[i]!)) i++;
  return i < names.length ? names.slice(i) : names;
}

/** The indent of a stack frame under its event's line. */
export const FRAME_INDENT = "    at ";

export class ExtrasText {
  private readonly frames = new Map<bigint, string>();

  constructor(private readonly namer: StackNamer | undefined) {}

  private frame(addr: bigint): string {
    let t = this.frames.get(addr);
    if (t === undefined) {
      t = this.namer ? this.namer.frame(addr) : `0x${addr.toString(16)}`;
      this.frames.set(addr, t);
    }
    return t;
  }

  /** The frames' names, innermost first, from the kernel's own code on. */
  stack(addrs: readonly bigint[]): string[] {
    return kernelFrames(addrs.map((a) => this.frame(a)));
  }

  /** `    at f+0x1\n` per frame of the record's stack ("" when it has none). */
  stackLines(dv: DataView, off: number): string {
    if (readStackDepth(dv, off) === 0) return "";
    return this.linesOf(stackAddrs(dv, off));
  }

  linesOf(addrs: readonly bigint[]): string {
    let s = "";
    for (const f of this.stack(addrs)) s += `${FRAME_INDENT}${f}\n`;
    return s;
  }

  /** `,"wire_len":N,"link":"mac","cap_len":N,"packet":"hex","stack":[...],"ifname":"lo","ifindex":N,
   * "netns":N`, each part only when the record has it. */
  json(dv: DataView, off: number): string {
    let s = "";
    const cap = readCapLen(dv, off);
    if (cap > 0) {
      const link = readLink(dv, off) === LINK_NETWORK ? "network" : "mac";
      s += `,${K_WIRE}:${readWireLen(dv, off)},${K_LINK}:"${link}",${K_CAP}:${cap},${K_PACKET}:"${hexOf(packetBytes(dv, off))}"`;
    }
    if (readStackDepth(dv, off) > 0)
      s += `,${K_STACK}:[${this.stack(stackAddrs(dv, off))
        .map((f) => JSON.stringify(f))
        .join(",")}]`;
    const d = readDevice(dv, off);
    if (d) s += `,${K_IFNAME}:${JSON.stringify(d.name)},${K_IFINDEX}:${d.ifindex},${K_NETNS}:${d.netns}`;
    return s;
  }
}
