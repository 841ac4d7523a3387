// --ifindex, --ifname, --netns: the device's index, the device's whole NUL-terminated name, the namespace's
// inode number (ns.inum) of the device's network namespace, or of skb->sk's when the skb has no device yet
// (a locally generated packet above the IP output). The device is skb->dev, or, at a tracepoint that passes
// the device as an argument (net_dev_xmit), that device (plan/device-args.ts). One selector: the three
// share the device's read.
import { asm, type Insn } from "../../asm/index.js";
import { R1, R2, R3, R6, R7, R9, R10 } from "../../asm/opcodes.js";
import { readVia } from "../probe-read.js";
import { SELECT_READS } from "../stack-layout.js";
import type { Selector, SelectorInput } from "./selector.js";

export const deviceSelector: Selector = {
  name: "device",
  flags: ["--ifindex", "--ifname", "--netns"],
  wanted: (sel) => sel.ifindex !== undefined || sel.ifname !== undefined || sel.netnsInum !== undefined,
  needsLayout: true,
  emit: deviceTests,
};

/** The device's name as the kernel keeps it: the bytes up to and including the NUL, compared word by word
 * (bytes after the NUL may be left over from an earlier, longer name). */
export function nameWords(name: string): { value: bigint; mask: bigint }[] {
  const bytes = Buffer.from(`${name}\0`, "latin1");
  const out: { value: bigint; mask: bigint }[] = [];
  for (let w = 0; w * 8 < bytes.length; w++) {
    let value = 0n;
    let mask = 0n;
    for (let i = 0; i < 8 && w * 8 + i < bytes.length; i++) {
      value |= BigInt(bytes[w * 8 + i]!) << BigInt(8 * i);
      mask |= 0xffn << BigInt(8 * i);
    }
    out.push({ value, mask });
  }
  return out;
}

const T_PTR = SELECT_READS; // 8 bytes
const T_VAL = SELECT_READS + 8; // 8 bytes
const T_NAME = SELECT_READS + 16; // 16 bytes

function deviceTests({ sel, layout, m, out, devArg }: SelectorInput): Insn[] {
  const l = layout();
  const probeRead = m.probeRead;
  // R9 = the device: the point's own argument where it has one, else skb->dev.
  const p: Insn[] =
    devArg !== undefined
      ? [asm.ldxMem(asm.DW, R9, R6, 8 * devArg)]
      : [...readVia(R7, l.dev, 8, T_PTR, probeRead, out), asm.mov64Reg(R9, R3)];
  const byDevice = sel.ifindex !== undefined || sel.ifname !== undefined;
  // No device: the device tests fail; the namespace comes from the socket, if there is one.
  p.push(asm.jmpImm(asm.JEQ, R9, 0, byDevice ? out : "sel_nodev"));
  if (sel.ifindex !== undefined) {
    p.push(
      ...readVia(R9, l.devIfindex, 4, T_VAL, probeRead, out),
      asm.jmp32Imm(asm.JNE, R3, sel.ifindex | 0, out),
    );
  }
  if (sel.ifname !== undefined) {
    p.push(...readVia(R9, l.devName, 16, T_NAME, probeRead, out));
    nameWords(sel.ifname).forEach((w, i) => {
      p.push(asm.ldxMem(asm.DW, R1, R10, T_NAME + 8 * i));
      if (w.mask !== 0xffffffffffffffffn) p.push(asm.ldImm64(R2, w.mask), asm.alu64Reg(asm.AND, R1, R2));
      p.push(asm.ldImm64(R2, w.value), asm.jmpReg(asm.JNE, R1, R2, out));
    });
  }
  if (sel.netnsInum !== undefined) {
    p.push(...readVia(R9, l.devNet, 8, T_PTR, probeRead, out));
    if (!byDevice) {
      p.push(
        asm.ja("sel_net"),
        asm.label("sel_nodev", asm.mov64Reg(R9, R9)),
        ...readVia(R7, l.sk, 8, T_PTR, probeRead, out),
        asm.jmpImm(asm.JEQ, R3, 0, out),
        asm.mov64Reg(R9, R3),
        ...readVia(R9, l.skNet, 8, T_PTR, probeRead, out),
      );
    }
    p.push(
      asm.label("sel_net", asm.jmpImm(asm.JEQ, R3, 0, out)),
      asm.mov64Reg(R9, R3),
      ...readVia(R9, l.netInum, 4, T_VAL, probeRead, out),
      asm.jmp32Imm(asm.JNE, R3, sel.netnsInum | 0, out),
    );
  }
  return p;
}
