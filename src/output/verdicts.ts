// What the writers share about verdicts: how they read, and the ledger of packets for the summary.
import { PacketLedger } from "./packet-ledger.js";
import type { VerdictNamer } from "./types.js";
import { VerdictText } from "./verdict-text.js";

export interface Verdicts {
  text: VerdictText;
  ledger: PacketLedger;
}

export function makeVerdicts(namer: VerdictNamer, maxOpen?: number): Verdicts {
  const text = new VerdictText(namer);
  return { text, ledger: new PacketLedger(text, maxOpen) };
}
