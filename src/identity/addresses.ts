// Addresses as tcpdump prints them: MAC as colon-separated hex, IPv4 dotted, IPv6 in RFC 5952's short
// form (the longest run of two or more zero groups as "::", lower case, ::ffff:a.b.c.d for mapped IPv4).

const hex2 = (v: number) => v.toString(16).padStart(2, "0");

export function macText(b: Uint8Array, at: number): string {
  let s = hex2(b[at]!);
  for (let i = 1; i < 6; i++) s += `:${hex2(b[at + i]!)}`;
  return s;
}

export function ipv4Text(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** `mapped`: an IPv4-mapped address as ::ffff:a.b.c.d (tcpdump's); false: as hex groups like any other. */
export function ipv6Text(b: Uint8Array, at: number, mapped = true): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  if (mapped && g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff)
    return `::ffff:${ipv4Text(b, at + 12)}`;
  // The longest run of zero groups, the first of equal ones; a single zero group stays "0".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const part = (from: number, to: number) =>
    g
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(":");
  if (best < 0) return part(0, 8);
  return `${part(0, best)}::${part(best + bestLen, 8)}`;
}
