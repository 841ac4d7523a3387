// The sk_buff, net_device and sock offsets the program tests build with (those of a 6.x x86_64 kernel): the
// programs are checked for their structure, not run.
import type { SkbLayout } from "../../src/program/selection.js";

export const LAYOUT: SkbLayout = {
  len: 112,
  data: 200,
  head: 192,
  tail: 184,
  macHeader: 182,
  networkHeader: 180,
  dev: 16,
  sk: 24,
  devIfindex: 224,
  devName: 280,
  devNet: 264,
  skNet: 48,
  netInum: 176,
};
