// The selectors, in the order their tests run (cheapest first): one line each.
import { deviceSelector } from "./device.js";
import { markSelector } from "./mark.js";
import { pcapSelector } from "./pcap.js";
import type { Selector } from "./selector.js";

export const SELECTORS: readonly Selector[] = [markSelector, deviceSelector, pcapSelector];
