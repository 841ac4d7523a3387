// Which packets of several trace files are one packet: those whose signatures (signature.ts) are equal,
// in the files that have one packet of that signature. A signature two packets of one file share (a clone
// for a raw socket, a retransmission with the same bytes) says nothing of which of them is the other files'
// packet: those are not merged, and counted as ambiguous. Packets joined through different signatures that would put two
// packets of one file in one journey are kept apart too. Memory: one entry per (packet, signature).

/** One file's packets: add each event's packet id and signature (in any order), then ask journeys. */
export class JourneyMatcher {
  private readonly nodes: Map<number, number>[] = [];
  private readonly fileOf: number[] = [];
  private readonly parent: number[] = [];
  /** signature -> file -> the nodes (packets) of that file with it. */
  private readonly bySignature = new Map<string, Map<number, Set<number>>>();
  private roots: number[] | undefined;
  /** Packets whose match was ambiguous (not merged). */
  ambiguous = 0;

  /** The node of a file's packet. */
  private node(file: number, packet: number): number {
    let m = this.nodes[file];
    if (!m) {
      m = new Map();
      this.nodes[file] = m;
    }
    let n = m.get(packet);
    if (n === undefined) {
      n = this.parent.length;
      this.parent.push(n);
      this.fileOf.push(file);
      m.set(packet, n);
    }
    return n;
  }

  add(file: number, packet: number, signature: string | undefined): void {
    const n = this.node(file, packet);
    if (signature === undefined) return;
    let files = this.bySignature.get(signature);
    if (!files) {
      files = new Map();
      this.bySignature.set(signature, files);
    }
    let set = files.get(file);
    if (!set) {
      set = new Set();
      files.set(file, set);
    }
    set.add(n);
  }

  private find(n: number): number {
    while (this.parent[n] !== n) {
      this.parent[n] = this.parent[this.parent[n]!]!;
      n = this.parent[n]!;
    }
    return n;
  }

  /** Joins the matches; after it, journey() answers. */
  solve(): void {
    const unsure = new Set<number>();
    for (const files of this.bySignature.values()) {
      if (files.size < 2) continue;
      // The files with one packet of it are joined; a file with several (a clone, a resend) keeps them apart.
      const sure: number[] = [];
      for (const s of files.values()) {
        if (s.size === 1) sure.push(s.values().next().value as number);
        else for (const n of s) unsure.add(n);
      }
      for (const n of sure.slice(1)) this.parent[this.find(n)] = this.find(sure[0]!);
    }
    this.bySignature.clear();
    // A journey with two packets of one file is not one packet: keep its packets apart.
    const seen = new Map<number, Set<number>>();
    const split = new Set<number>();
    for (let n = 0; n < this.parent.length; n++) {
      const r = this.find(n);
      let files = seen.get(r);
      if (!files) {
        files = new Set();
        seen.set(r, files);
      }
      if (files.has(this.fileOf[n]!)) split.add(r);
      files.add(this.fileOf[n]!);
    }
    this.roots = this.parent.map((_, n) => {
      const r = this.find(n);
      return split.has(r) ? n : r;
    });
    const size = new Map<number, number>();
    for (const r of this.roots) size.set(r, (size.get(r) ?? 0) + 1);
    for (let n = 0; n < this.parent.length; n++) {
      const alone = size.get(this.roots[n]!) === 1;
      if (split.has(this.find(n)) || (unsure.has(n) && alone)) this.ambiguous++;
    }
  }

  /** The journey (a number shared by its packets) of a file's packet. */
  journey(file: number, packet: number): number {
    return this.roots![this.nodes[file]!.get(packet)!]!;
  }
}
