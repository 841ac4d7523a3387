// nftables trace events from real bytes: what this kernel (6.18) sent to NFNLGRP_NFTRACE in a namespace with
// a trace table (ipft_trace_1: chains pre and out setting nftrace), table inet filt's chain input dropping ICMP
// echo requests by a rule (handle 3) and its chain input2 (after it) whose policy is drop: a ping to
// 127.0.0.1 (dropped by the rule), then a UDP datagram to port 9 (by the policy). One datagram a line, in hex.
import { readFileSync } from "node:fs";
import { parseTraceMessages, type TraceEvent } from "../../src/nftrace/message.js";
import { ROOT } from "../support/run.js";

export const CAPTURED_LINES: string[] = readFileSync(`${ROOT}test/fixtures/nftrace-6.18.hex`, "utf8")
  .trim()
  .split("\n");

export const CAPTURED: TraceEvent[] = CAPTURED_LINES.flatMap((l) =>
  parseTraceMessages(Buffer.from(l, "hex")),
);
