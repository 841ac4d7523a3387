// How a clone event reads (record.ts FLAG_CLONE: the first event of a clone or copy of a tracked packet,
// where skb_clone, skb_copy... returned it): `clone of 0x<parent's address>` after the line in the
// stream output, `"parent":"0x..."` in JSON. The aggregate output says which packet group is the parent.
import { FIELDS, isClone, OFF_LOCATION } from "../../record/record.js";
import { u64Hex } from "./u64-text.js";

const K_PARENT = JSON.stringify(FIELDS.location.json[1]);

/** The parent's address (`0x...`) of a clone event, undefined on every other event. */
export function parentHex(dv: DataView, off: number): string | undefined {
  return isClone(dv, off) ? u64Hex(dv, off + OFF_LOCATION) : undefined;
}

export const cloneText = (parent: string): string => `clone of ${parent}`;
export const cloneJson = (parent: string): string => `,${K_PARENT}:"${parent}"`;
