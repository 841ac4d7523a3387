// The event's parts (record/parts/: the device with -w, a drop's facts at every drop event, --snaplen's
// packet bytes, --stack's return addresses) as the main program sends them after the 128-byte record.
// Without parts the program sends the record with bpf_ringbuf_output from the stack, as always. With them
// it reserves the record and every part's room at once (a constant: the verifier wants one), copies the
// record from the stack into the reservation, runs each part's fill code in the registry's order (each
// fills its bytes and the record's fields that say it is there) and submits it. A full ring counts a lost
// trace, as the plain path does.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R8, R10 } from "../asm/opcodes.js";
import { PARTS } from "../record/parts/index.js";
import type { EventPart, PartsRequest } from "../record/parts/part.js";
import { RECORD_SIZE } from "../record/record.js";
import { Helper } from "../sys/bpf-abi.js";
import { placeReads, probeReadInto } from "./probe-read.js";
import { RECORD } from "./stack-layout.js";

export type { DeviceLayout } from "../record/parts/device.js";
export type { StackMode } from "../record/parts/stack.js";
export type { PartsRequest };

/** The parts an attach unit's events carry, with the bytes reserved for each (none: the plain path). */
export function partsAt(
  req: PartsRequest | undefined,
  verdictKind: number | undefined,
): { part: EventPart; room: number }[] {
  if (!req) return [];
  return PARTS.map((part) => ({ part, room: part.room(req, verdictKind) })).filter((p) => p.room > 0);
}

/** The bytes one record takes in the ring with these parts (before the ring's 8-byte header). */
export const partsRecordSize = (parts: readonly { room: number }[]): number =>
  parts.reduce((n, p) => n + p.room, RECORD_SIZE);

/**
 * The instructions that send the record with its parts, run after the module (R6 = ctx, R7 = skb; R8
 * and R9 are free again). They end by jumping to `out`, or to `lost` when the ring is full.
 */
export function extrasOutput(o: {
  req: PartsRequest;
  parts: readonly { part: EventPart; room: number }[];
  ringFd: number;
  probeRead: number;
  /** The context's slot holding the point's own device argument (instead of skb->dev). */
  devArg?: number;
  /** The context's slot holding the socket a dropped packet was for (kfree_skb's rx_sk). */
  sockArg?: number;
  out: string;
  lost: string;
}): Insn[] {
  const p: Insn[] = [
    asm.ldMapFd(R1, o.ringFd),
    asm.mov64Imm(R2, partsRecordSize(o.parts)),
    asm.mov64Imm(R3, 0),
    asm.call(Helper.ringbuf_reserve),
    asm.jmpImm(asm.JEQ, R0, 0, o.lost),
    asm.mov64Reg(R8, R0),
  ];
  for (let k = 0; k < RECORD_SIZE; k += 8)
    p.push(asm.ldxMem(asm.DW, R1, R10, RECORD + k), asm.stxMem(asm.DW, R8, R1, k));
  const label = (name: string) => `extras_${name}`;
  let start = RECORD_SIZE;
  let varRoom = 0;
  o.parts.forEach(({ part, room }, i) => {
    const next = o.parts[i + 1];
    const code = part.fill(
      {
        req: o.req,
        probeRead: o.probeRead,
        devArg: o.devArg,
        sockArg: o.sockArg,
        start,
        varRoom,
        next: next ? label(next.part.name) : "extras_submit",
        submit: "extras_submit",
        placeReads,
        probeReadInto,
      },
      room,
    );
    code[0] = { ...code[0]!, label: label(part.name) };
    p.push(...code);
    if (part.runTimeSize) varRoom += room;
    else start += room;
  });
  p.push(
    { ...asm.mov64Reg(R1, R8), label: "extras_submit" },
    asm.mov64Imm(R2, 0),
    asm.call(Helper.ringbuf_submit),
    asm.ja(o.out),
  );
  return p;
}
