// The event parts, in the order they follow the 128-byte record (part.ts says what a part is). A new part
// is one file of this folder and one line in PARTS; its flag bit, when it has one, is taken in record.ts.
import { FIELDS, PACKET_ID_JSON, RECORD_SIZE } from "../record.js";
import { DEVICE, type DeviceInfo, deviceAt } from "./device.js";
import { DROP_FACTS, type DropFactsInfo, dropFactsAt } from "./drop-facts.js";
import { IDENTITY, type IdentityInfo, identityAt } from "./identity.js";
import { PACKET, packetAt } from "./packet.js";
import type { EventPart } from "./part.js";
import { STACK, stackAt } from "./stack.js";

export const PARTS: readonly EventPart[] = [
  DEVICE, // -w: the device and namespace
  IDENTITY, // the packet's first bytes and device, at its first event
  DROP_FACTS, // drops: the device and network header at the drop (explain/facts.ts)
  PACKET, // --snaplen: the packet's bytes
  STACK, // --stack: the kernel stack
];

/** The parts in the order json prints their keys. */
export const JSON_PARTS: readonly EventPart[] = [
  ...PARTS.filter((p) => !p.jsonLast),
  ...PARTS.filter((p) => p.jsonLast),
];

/** Every key a JSON event has before the script's or capture's own keys, in output order. */
export const EVENT_JSON_KEYS: readonly string[] = [
  PACKET_ID_JSON,
  ...Object.values(FIELDS).flatMap((f) => f.json),
  ...JSON_PARTS.flatMap((p) => p.json),
];

/** Where `part` starts in the record at `off` (from `off`): after the record and the parts before it. */
export function partStart(dv: DataView, off: number, part: EventPart): number {
  let at = RECORD_SIZE;
  for (const p of PARTS) {
    if (p === part) return at;
    at += p.size(dv, off);
  }
  throw new Error(`${part.name} is not a registered part`);
}

/** The record's whole length: 128 and every part it has. */
export function recordLength(dv: DataView, off: number): number {
  let at = RECORD_SIZE;
  for (const p of PARTS) at += p.size(dv, off);
  return at;
}

/** The packet bytes the record carries (cap_len of them; empty without --snaplen). A view into `dv`'s
 * memory: copy it to keep it past the writer's write() (the ring's space is reused). */
export const packetBytes = (dv: DataView, off: number): Uint8Array =>
  packetAt(dv, off, partStart(dv, off, PACKET));

/** The return addresses the record carries, innermost first (empty without --stack). */
export const stackAddrs = (dv: DataView, off: number): bigint[] =>
  stackAt(dv, off, partStart(dv, off, STACK));

/** The device part of a record that has one, else undefined. */
export const readDevice = (dv: DataView, off: number): DeviceInfo | undefined =>
  DEVICE.size(dv, off) === 0 ? undefined : deviceAt(dv, off, partStart(dv, off, DEVICE));

/** The identity part of a record that has one, else undefined. */
export const readIdentity = (dv: DataView, off: number): IdentityInfo | undefined =>
  IDENTITY.size(dv, off) === 0 ? undefined : identityAt(dv, off, partStart(dv, off, IDENTITY));

/** The drop-facts part of a record that has one (a drop's), else undefined. */
export const readDropFacts = (dv: DataView, off: number): DropFactsInfo | undefined =>
  DROP_FACTS.size(dv, off) === 0 ? undefined : dropFactsAt(dv, off, partStart(dv, off, DROP_FACTS));

export type { DeviceInfo, DropFactsInfo, EventPart, IdentityInfo };
export { DEVICE, DROP_FACTS, IDENTITY, PACKET, STACK };
