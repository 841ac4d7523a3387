// The compiler against the running kernel's BTF: layouts, types, default formats, the ABI guard, messages.
// Needs this machine: /sys/kernel/btf/vmlinux (skipped, saying so, without it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode } from "../../src/asm/index.js";
import { CaptureError, compileCapture, describeLayout } from "../../src/capture/index.js";
import { assertModule } from "../../src/program/module-abi.js";
import { env, noBtf } from "./capture-btf.js";

test("the documented expressions compile, pack without padding and pass the ABI guard", {
  skip: noBtf,
}, () => {
  const cap = compileCapture(
    [
      "skb->len",
      "skb->mark:hex",
      "skb->dev->name",
      "skb->dev->ifindex",
      "skb->sk->__sk_common.skc_family",
      "gso_size=skb_shinfo(skb)->gso_size",
      "skb->cb[0]",
      "ip->saddr",
      "ip->daddr",
      "ip->protocol:enum(IPPROTO)",
      "udp->dest",
      "tcp->flags",
    ],
    env(),
  );
  const b = env().btf;
  assert.equal(cap.bitmapBytes, 2);
  const sizes = cap.fields.map((f) => [f.label, f.size, f.decoding.fmt]);
  assert.deepEqual(sizes, [
    ["len", 4, "dec"],
    ["mark", 4, "hex"],
    ["dev", b.sizeof("net_device") > 0 ? 16 : 0, "str"],
    ["dev->ifindex", 4, "dec"], // "ifindex" is the device's own JSON key
    ["skc_family", 2, "dec"],
    ["gso_size", 2, "dec"],
    ["cb", 1, "dec"],
    ["saddr", 4, "ip4"],
    ["daddr", 4, "ip4"],
    ["protocol", 1, "enum"],
    ["dest", 2, "dec"],
    ["flags", 1, "flags"],
  ]);
  let off = 2;
  for (const f of cap.fields) {
    assert.equal(f.offset, off, f.label);
    off += f.size;
  }
  assert.equal(cap.used, off);
  assert.equal(
    cap.fields.find((f) => f.label === "dest")!.decoding.k === "int" &&
      (cap.fields.find((f) => f.label === "dest")!.decoding as { be: boolean }).be,
    true,
  );
  assertModule(cap.bytes, { helperName: (id) => (id === 113 ? "bpf_probe_read_kernel" : undefined) });
  assert.deepEqual(decode(cap.bytes).length, cap.insns.length);
  const lines = describeLayout(cap);
  assert.match(lines[0]!, /^capture layout: \d+ of 64 bytes/);
  assert.match(lines.join("\n"), /saddr: 4 bytes at \d+, __be32, shown as ip4/);
});

test("header pointers are shared: ip->daddr after ip->saddr reads only the address", { skip: noBtf }, () => {
  const one = compileCapture(["ip->saddr"], env()).insns.length;
  const two = compileCapture(["ip->saddr", "ip->daddr"], env()).insns.length;
  const indep = compileCapture(["ip->saddr", "skb->len"], env()).insns.length;
  assert.ok(two - one < indep - one + 5, `second address costs ${two - one} instructions`);
  assert.ok(two - one <= 12, `second address costs ${two - one} instructions`);
});

test("bitfields are read by their bytes and cut out when shown", { skip: noBtf }, () => {
  const cap = compileCapture(["tcp->syn", "ip->version", "ip->ihl"], env());
  const [syn, version, ihl] = cap.fields.map((f) => f.decoding);
  assert.deepEqual(
    [syn, version, ihl].map((d) => (d!.k === "int" ? [d.size, d.shift, d.bits] : [])),
    [
      [1, 1, 1],
      [1, 4, 4],
      [1, 0, 4],
    ],
  );
});

test("defaults: char arrays are text, 6 bytes a MAC, in6_addr an IPv6 address, pointers hex", {
  skip: noBtf,
}, () => {
  const cap = compileCapture(
    ["eth->h_source", "ip6->saddr", "skb->dev", "skb->dev->name", "eth->h_proto"],
    env(),
  );
  assert.deepEqual(
    cap.fields.map((f) => f.decoding.fmt),
    ["mac", "ip6", "hex", "str", "dec"],
  );
});

test("what does not fit says how many bytes each field takes", { skip: noBtf }, () => {
  assert.throws(
    () =>
      compileCapture(
        ["skb->dev->name", "a=skb->dev->name", "b=skb->dev->name", "c=skb->dev->name", "skb->len"],
        env(),
      ),
    (e: Error) =>
      e instanceof CaptureError &&
      /the captures take 69 bytes but a trace carries 64 \(1 for the null bitmap, dev 16, a 16, b 16, c 16, len 4\)/.test(
        e.message,
      ),
  );
});

test("type errors name the capture and what is wrong", { skip: noBtf }, () => {
  const bad: [string, RegExp][] = [
    ["skb->nosuch", /capture "skb->nosuch": .*struct sk_buff has no member "nosuch"/],
    ["skb->len->x", /skb->len is a unsigned int, not a pointer to a struct/],
    ["skb.len", /skb is not a struct \(use -> for a pointer\)/],
    ["skb->cb[48]", /skb->cb\[48\] is out of bounds: skb->cb has 48 elements/],
    ["(struct nosuch *)skb->head", /BTF has no struct named "nosuch"/],
    ["foo->bar", /unknown name "foo"/],
    ["bar(skb)->x", /unknown function "bar"/],
    ["skb->len:ip6", /format ip6 needs 16 bytes/],
    ["skb->dev->name:dec", /format dec needs an integer/],
    ["skb->len:enum", /is not an enum; name one/],
    ["skb->len:enum(NO_SUCH_PREFIX_X)", /no enum whose names start with "NO_SUCH_PREFIX_X"/],
    ["skb->len:weird", /unknown format "weird"/],
    ["tcp->syn:str", /a bitfield can only be shown as/],
    ["skb->head + skb->data", /adds two pointers/],
    ["3", /a number is not something to capture/],
  ];
  for (const [src, re] of bad) {
    assert.throws(
      () => compileCapture([src], env()),
      (e: Error) => e instanceof CaptureError && re.test(e.message),
      `${src}: expected ${re}`,
    );
  }
  assert.throws(() => compileCapture(["skb->len", "skb->len"], env()), /two captures are labelled "len"/);
  assert.throws(() => compileCapture([], env()), /nothing to capture/);
  assert.throws(
    () => compileCapture(["function=skb->len"], env()),
    /"function" is one of ipft's own JSON keys; give it another label/,
  );
});

test("sums of integers are captured as values of the left operand's type", { skip: noBtf }, () => {
  const cap = compileCapture(["next=skb->len + 1", "end=skb->tail + 0x10"], env());
  assert.deepEqual(
    cap.fields.map((f) => [f.label, f.size, f.type]),
    [
      ["next", 4, "unsigned int"],
      ["end", 4, "sk_buff_data_t"],
    ],
  );
});

test("labels that clash fall back to the path; given labels stay", { skip: noBtf }, () => {
  const cap = compileCapture(["ip->saddr", "ip6->saddr", "src=skb->sk->__sk_common.skc_rcv_saddr"], env());
  assert.deepEqual(
    cap.fields.map((f) => f.label),
    ["saddr", "ip6->saddr", "src"],
  );
  // A bare skb is labelled past json's own skb key; a given skb label is refused.
  assert.deepEqual(
    compileCapture(["skb"], env()).fields.map((f) => f.label),
    ["skb_"],
  );
  assert.throws(() => compileCapture(["skb=skb->len"], env()), /"skb" is one of ipft's own JSON keys/);
});

test("a pointer computed after its field could skip is not reused by later fields (it may be unset)", {
  skip: noBtf,
}, () => {
  const calls = (texts: string[]) =>
    compileCapture(texts, env()).insns.filter((i) => i.code === 0x85 && i.imm === 113).length;
  // Here ip is computed after skb->dev's NULL check: when skb->dev is NULL, ip's slot is never written, so
  // ip->daddr must compute ip again (head and network_header, then the address).
  const first = "x=skb->dev->ifindex + ip";
  assert.equal(calls([first, "ip->daddr"]) - calls([first]), 3);
  // A chain that starts its field is shared: if it stopped half-way its slot is 0 and the NULL check on
  // reuse catches that. So ip->daddr after ip->saddr reads only the address, and the net pointer is
  // shared by the second field below (skb->dev, net, ifindex, then ifindex again).
  assert.equal(calls(["ip->saddr", "ip->daddr"]) - calls(["ip->saddr"]), 1);
  assert.equal(calls(["a=skb->dev->nd_net.net->ifindex", "b=skb->dev->nd_net.net->ifindex"]), 4);
});

test("computed values are stored into the data area without a misaligned store (the verifier refuses one)", {
  skip: noBtf,
}, () => {
  // Packed fields put sums at odd offsets: byte 1 after the bitmap, 3 after a 2-byte field, and so on.
  const cap = compileCapture(
    ["x=skb->len + 1", "p=skb->head + skb->network_header + 20", "y=skb->protocol + 1", "z=skb->mark + 3"],
    env(),
  );
  assert.deepEqual(
    cap.fields.map((f) => [f.label, f.offset, f.size]),
    [
      ["x", 1, 4],
      ["p", 5, 8],
      ["y", 13, 2],
      ["z", 15, 4],
    ],
  );
  const width = new Map([
    [0x00, 4],
    [0x08, 2],
    [0x10, 1],
    [0x18, 8],
  ]);
  const stores = cap.insns.filter((i) => (i.code & 7) === 0x03 && i.dst === 6);
  for (const s of stores) {
    const w = width.get(s.code & 0x18)!;
    assert.equal(s.off % w, 0, `a ${w}-byte store at data offset ${s.off}`);
  }
  assert.ok(stores.length >= 4 + 8 + 2 + 4, "every byte of the four values is stored");
});

test("a label that is taken or reserved gets a suggestion that is itself a valid capture", {
  skip: noBtf,
}, () => {
  const cases: [string[], number][] = [
    [["timestamp=skb->tstamp"], 0],
    [["function=skb->len:hex"], 0],
    [["skb->len", "ts=skb->tstamp", "packet_id=skb->hash"], 2],
    [["a=skb->len", "a=skb->mark"], 1],
    [["a=skb->len", "a2=skb->len", "a=skb->mark:hex"], 2],
    [["ip6->saddr", "ip6->saddr", "ip6->saddr"], 2],
    [["skb->head + 1", "skb->head + 1"], 1],
  ];
  for (const [texts, bad] of cases) {
    let suggestion = "";
    assert.throws(
      () => compileCapture(texts, env()),
      (e: Error) => {
        suggestion = /, e\.g\. (.*)$/.exec(e.message)?.[1] ?? "";
        return e instanceof CaptureError;
      },
    );
    const label = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(suggestion)?.[1];
    assert.ok(label, `${texts.join(" ")}: the suggestion "${suggestion}" starts with a label`);
    const fixed = texts.map((t, i) => (i === bad ? suggestion : t));
    const cap = compileCapture(fixed, env());
    assert.equal(cap.fields[bad]!.label, label, fixed.join(" "));
    assert.equal(suggestion.slice(label.length + 1), texts[bad]!.replace(/^\w+=/, ""), "the same expression");
  }
});

const SOCK_SHORTHANDS = [
  "family",
  "num",
  "dport",
  "daddr",
  "rcv_saddr",
  "state",
  "reuse",
  "reuseport",
  "ipv6only",
  "bound_dev_if",
  "net",
  "v6_daddr",
  "v6_rcv_saddr",
  "cookie",
  "hash",
  "prot",
  "node",
  "nulls_node",
  "refcnt",
  "tx_queue_mapping",
  "bind_node",
  "portpair",
  "addrpair",
  "incoming_cpu",
  "flags",
  "rxhash",
];

test("struct sock's #define shorthands (sk->sk_family) read the __sk_common member they stand for", {
  skip: noBtf,
}, () => {
  const same = (a: string, b: string) => {
    const x = compileCapture([a], env());
    const y = compileCapture([b], env());
    assert.deepEqual(x.bytes, y.bytes, `${a} compiles as ${b}`);
    assert.deepEqual(
      [x.fields[0]!.size, x.fields[0]!.type, x.fields[0]!.decoding],
      [y.fields[0]!.size, y.fields[0]!.type, y.fields[0]!.decoding],
      a,
    );
  };
  for (const m of SOCK_SHORTHANDS) same(`skb->sk->sk_${m}`, `skb->sk->__sk_common.skc_${m}`);
  same("skb->sk->sk_rmem_alloc", "skb->sk->sk_backlog.rmem_alloc");
  // Structs that begin with a sock have them too, and inet_sock's own (inet_dport is sk_dport).
  same("((struct tcp_sock *)skb->sk)->sk_family", "skb->sk->__sk_common.skc_family");
  same("((struct udp_sock *)skb->sk)->inet_dport", "skb->sk->__sk_common.skc_dport");
  same("((struct inet_sock *)skb->sk)->inet_num", "skb->sk->__sk_common.skc_num");
  assert.equal(compileCapture(["skb->sk->sk_family"], env()).fields[0]!.label, "sk_family");
  // Zero-sized markers are refused as the member itself is.
  assert.throws(
    () => compileCapture(["skb->sk->sk_dontcopy_begin"], env()),
    /sk_dontcopy_begin has type int\[0\], which has no size to capture/,
  );
});

test("a member that does not exist is answered with the closest real path", { skip: noBtf }, () => {
  const cases: [string, string][] = [
    ["skb->sk->skc_family", "skb->sk->__sk_common.skc_family"],
    ["skb->sk->sk_famly", "skb->sk->sk_family"],
    ["skb->sk->sk_protcol", "skb->sk->sk_protocol"],
    ["skb->lenn", "skb->len"],
    ["skb->dev->nam", "skb->dev->name"],
    ["skb->sk->__sk_common.skc_famliy", "skb->sk->__sk_common.skc_family"],
    ["ip->sadr", "ip->saddr"],
  ];
  for (const [bad, good] of cases) {
    let msg = "";
    assert.throws(
      () => compileCapture([bad], env()),
      (e: Error) => {
        msg = e.message;
        return e instanceof CaptureError;
      },
    );
    assert.ok(msg.endsWith(`; did you mean ${good}?`), `${bad}: ${msg}`);
    compileCapture([good], env());
  }
  assert.throws(
    () => compileCapture(["skb->sk->nothing_like_it"], env()),
    /has no member "nothing_like_it"$/,
  );
});

test("the skb pointer, cast or summed, is copied into the data by the read helper, never a byte at a time", {
  skip: noBtf,
}, () => {
  // At fentry the skb is a BTF pointer to the verifier, and 6.1 refuses storing one byte of a pointer
  // ("invalid size of register spill"); a value read from memory is a number and is stored byte by byte.
  const STX_B = 0x73;
  const CALL = 0x85;
  const byteStores = (cap: ReturnType<typeof compileCapture>) => {
    const f = cap.fields[0]!;
    return cap.insns.filter(
      (i) => i.code === STX_B && i.dst === 6 && i.off >= f.offset && i.off < f.offset + f.size,
    ).length;
  };
  // (A bare `skb` needs a label: "skb" is the events' own key for the address.)
  for (const text of ["p=skb", "(struct iphdr *)skb", "skb + 1", "skb->len + skb"]) {
    const cap = compileCapture([text], env());
    assert.equal(byteStores(cap), 0, text);
    const calls = cap.insns.flatMap((i, at) => (i.code === CALL && i.imm === 113 ? [at] : []));
    const last = calls.at(-1) ?? -1;
    assert.ok(last > 0, text);
    // The source of that last read: R3 = R10 + the skb's slot (or a sum's).
    assert.ok(
      cap.insns.slice(0, last).some((i) => i.code === 0xbf && i.dst === 3 && i.src === 10),
      text,
    );
    assertModule(cap.bytes, { helperName: (id) => (id === 113 ? "bpf_probe_read_kernel" : undefined) });
  }
  assert.equal(byteStores(compileCapture(["skb->len + 1"], env())), 4);
});
