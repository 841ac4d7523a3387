// What a live trace read in the system for drops' facts, kept in the trace file (-w) and given back by
// --read, so a file read back explains its drops as the live run did: each answer is kept once, under a
// key naming the question (`namespace N`, `sysctl N KEY`, `route N DST`, `qdisc N DEV`,
// `filters N DEV HOOK`, `neighbour N DST`, `owners INODE`, `udp N ADDR PORT`, `xdp N DEV`), as JSON.
import type { Read, SystemLookups } from "./system-facts.js";

type Route = ReturnType<SystemLookups["route"]>;
type QdiscRead = ReturnType<SystemLookups["qdisc"]>;
type FiltersRead = ReturnType<SystemLookups["filters"]>;
type NeighbourRead = ReturnType<SystemLookups["neighbour"]>;
type OwnersRead = ReturnType<SystemLookups["owners"]>;
type XdpRead = ReturnType<SystemLookups["xdp"]>;
type UdpRead = ReturnType<SystemLookups["udpSocket"]>;

/** `inner`'s answers, each handed to `keep(key, json)` the first time it is asked. */
export function recordingLookups(
  inner: SystemLookups,
  keep: (key: string, json: string) => void,
): SystemLookups {
  const seen = new Set<string>();
  const once = <T>(key: string, value: T): T => {
    if (!seen.has(key)) {
      seen.add(key);
      keep(key, JSON.stringify(value));
    }
    return value;
  };
  return {
    namespace: (n) => once(`namespace ${n}`, inner.namespace(n)),
    sysctl: (n, key) => once(`sysctl ${n} ${key}`, inner.sysctl(n, key)),
    route: (n, dst) => once(`route ${n} ${dst}`, inner.route(n, dst)),
    qdisc: (n, dev) => once(`qdisc ${n} ${dev}`, inner.qdisc(n, dev)),
    filters: (n, dev, hook) => once(`filters ${n} ${dev} ${hook}`, inner.filters(n, dev, hook)),
    neighbour: (n, dst) => once(`neighbour ${n} ${dst}`, inner.neighbour(n, dst)),
    owners: (ino) => once(`owners ${ino}`, inner.owners(ino)),
    udpSocket: (n, addr, port) => once(`udp ${n} ${addr} ${port}`, inner.udpSocket(n, addr, port)),
    xdp: (n, dev) => once(`xdp ${n} ${dev}`, inner.xdp(n, dev)),
  };
}

const NOT_KEPT = { missing: "not in the trace file" };

/** The answers a trace file kept (key -> JSON); a question it has none for is answered as not read. */
export function replayedLookups(kept: ReadonlyMap<string, string>): SystemLookups {
  const get = <T>(key: string, none: T): T => {
    const j = kept.get(key);
    if (j === undefined) return none;
    try {
      return JSON.parse(j) as T;
    } catch {
      return none;
    }
  };
  return {
    namespace: (n) => get<string>(`namespace ${n}`, `netns:${n}`),
    sysctl: (n, key) => get<Read>(`sysctl ${n} ${key}`, NOT_KEPT),
    route: (n, dst) => get<Route>(`route ${n} ${dst}`, NOT_KEPT),
    qdisc: (n, dev) => get<QdiscRead>(`qdisc ${n} ${dev}`, NOT_KEPT),
    filters: (n, dev, hook) => get<FiltersRead>(`filters ${n} ${dev} ${hook}`, NOT_KEPT),
    neighbour: (n, dst) => get<NeighbourRead>(`neighbour ${n} ${dst}`, NOT_KEPT),
    owners: (ino) => get<OwnersRead>(`owners ${ino}`, NOT_KEPT),
    udpSocket: (n, addr, port) => get<UdpRead>(`udp ${n} ${addr} ${port}`, NOT_KEPT),
    xdp: (n, dev) => get<XdpRead>(`xdp ${n} ${dev}`, NOT_KEPT),
  };
}

/** Several trace files' answers as one (--read of several files): each question answered by the first
 * file that kept an answer; `sources` is called at each question (a file's replay changes as it is read). */
export function combinedLookups(sources: () => SystemLookups[]): SystemLookups {
  const first = <T>(ask: (l: SystemLookups) => T, kept: (v: T) => boolean): T => {
    const all = sources();
    for (const l of all) {
      const v = ask(l);
      if (kept(v)) return v;
    }
    return ask(all[0] ?? replayedLookups(new Map()));
  };
  const isKept = (v: unknown) =>
    !(v && typeof v === "object" && "missing" in v && v.missing === NOT_KEPT.missing);
  return {
    namespace: (n) =>
      first(
        (l) => l.namespace(n),
        (v) => v !== `netns:${n}`,
      ),
    sysctl: (n, key) => first((l) => l.sysctl(n, key), isKept),
    route: (n, dst) => first((l) => l.route(n, dst), isKept),
    qdisc: (n, dev) => first((l) => l.qdisc(n, dev), isKept),
    filters: (n, dev, hook) => first((l) => l.filters(n, dev, hook), isKept),
    neighbour: (n, dst) => first((l) => l.neighbour(n, dst), isKept),
    owners: (ino) => first((l) => l.owners(ino), isKept),
    udpSocket: (n, addr, port) => first((l) => l.udpSocket(n, addr, port), isKept),
    xdp: (n, dev) => first((l) => l.xdp(n, dev), isKept),
  };
}
