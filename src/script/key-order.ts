// The order in which a script writes the keys of its tables, read from its source text. A Lua table has no
// order of its own (pairs() follows the hash, which changes from run to run), so the order of dump()'s keys
// in ipft's output comes from here: a key is ranked by its first appearance in the script as
//   name = v       a field of a table constructor ({ name = v, ... })
//   ["name"] = v   a constructor field or an assignment through brackets, with a plain quoted string
//   t.name = v     an assignment to a field
// Nothing else counts: `local a, b = ...` is not a key, nor is an assignment inside a function written in
// a constructor.

type Tok =
  | { k: "name"; v: string }
  | { k: "string"; v: string | undefined } // undefined: a string with escapes, not used as a key
  | { k: "op"; v: string }
  | { k: "other" };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** The level of a long bracket at i (`[[` 0, `[=[` 1, ...), or -1. */
function longBracket(s: string, i: number): number {
  if (s[i] !== "[") return -1;
  let j = i + 1;
  while (s[j] === "=") j++;
  return s[j] === "[" ? j - i - 1 : -1;
}

/** Lua tokens, comments dropped; just enough of them to find table keys. */
function* tokens(s: string): Generator<Tok> {
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === "-" && s[i + 1] === "-") {
      const lvl = longBracket(s, i + 2);
      if (lvl >= 0) {
        const close = s.indexOf(`]${"=".repeat(lvl)}]`, i + 4 + lvl);
        i = close < 0 ? s.length : close + lvl + 2;
      } else {
        const nl = s.indexOf("\n", i);
        i = nl < 0 ? s.length : nl + 1;
      }
      continue;
    }
    const lvl = longBracket(s, i);
    if (lvl >= 0) {
      const close = s.indexOf(`]${"=".repeat(lvl)}]`, i + 2 + lvl);
      i = close < 0 ? s.length : close + lvl + 2;
      yield { k: "string", v: undefined };
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let escaped = false;
      while (j < s.length && s[j] !== c && s[j] !== "\n") {
        if (s[j] === "\\") {
          escaped = true;
          j++;
        }
        j++;
      }
      yield { k: "string", v: escaped ? undefined : s.slice(i + 1, j) };
      i = j + 1;
      continue;
    }
    if (NAME_START.test(c)) {
      let j = i + 1;
      while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
      yield { k: "name", v: s.slice(i, j) };
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(s[i + 1] ?? ""))) {
      // A number, exponent signs and hex digits included; its value does not matter here.
      let j = i + 1;
      while (
        j < s.length &&
        (/[0-9A-Za-z_.]/.test(s[j]!) || (/[eEpP]/.test(s[j - 1]!) && /[+-]/.test(s[j]!)))
      )
        j++;
      yield { k: "other" };
      i = j;
      continue;
    }
    const three = s.slice(i, i + 3);
    const two = s.slice(i, i + 2);
    if (three === "...") {
      yield { k: "op", v: three };
      i += 3;
    } else if (["==", "~=", "<=", ">=", "..", "::", "//", "<<", ">>"].includes(two)) {
      yield { k: "op", v: two };
      i += 2;
    } else {
      yield { k: "op", v: c };
      i++;
    }
  }
}

const OPENS = new Set(["function", "do", "if", "repeat"]);
const CLOSES = new Set(["end", "until"]);

export interface KeyOrder {
  /** Every key the script writes by name, in order of first appearance. */
  order: string[];
  /** The table constructors with two or more named keys (a key once), each in its written order. */
  constructors: string[][];
}

/** The keys a script writes by name. The source is the script's bytes read as UTF-8; a quoted key that is
 * not valid UTF-8 (or holds a NUL) is left out. */
export function keyOrder(source: string): KeyOrder {
  const order: string[] = [];
  const constructors: string[][] = [];
  const seen = new Set<string>();
  // Open brackets and blocks; a "{" carries its constructor's named keys. A constructor's fields are where
  // the innermost entry is a "{".
  const stack: { open: string; keys: string[] }[] = [];
  const add = (k: string, ctor: { open: string; keys: string[] } | undefined) => {
    if (!seen.has(k)) {
      seen.add(k);
      order.push(k);
    }
    if (ctor && !ctor.keys.includes(k)) ctor.keys.push(k);
  };
  const toks = [...tokens(source.startsWith("#") ? source.replace(/^#[^\n]*/, "") : source)];
  const isOp = (t: Tok | undefined, v: string) => t?.k === "op" && t.v === v;
  const fieldStart = (t: Tok | undefined) => isOp(t, "{") || isOp(t, ",") || isOp(t, ";");
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const prev = toks[i - 1];
    if (t.k === "name") {
      if (OPENS.has(t.v)) stack.push({ open: t.v, keys: [] });
      else if (CLOSES.has(t.v)) stack.pop();
      else if (isOp(toks[i + 1], "=")) {
        const top = stack.at(-1);
        if (top?.open === "{" && fieldStart(prev)) add(t.v, top);
        else if (isOp(prev, ".")) add(t.v, undefined);
      }
      continue;
    }
    if (t.k === "string") {
      if (
        t.v !== undefined &&
        /^[^\0\ufffd]*$/.test(t.v) &&
        isOp(prev, "[") &&
        isOp(toks[i + 1], "]") &&
        isOp(toks[i + 2], "=")
      ) {
        // stack's top is this "["; a constructor field if a "{" encloses it and a field starts here.
        const outer = stack.at(-2);
        add(t.v, outer?.open === "{" && fieldStart(toks[i - 2]) ? outer : undefined);
      }
      continue;
    }
    if (t.k !== "op") continue;
    if (t.v === "{" || t.v === "(" || t.v === "[") stack.push({ open: t.v, keys: [] });
    else if (t.v === "}" || t.v === ")" || t.v === "]") {
      const top = stack.pop();
      if (t.v === "}" && top?.open === "{" && top.keys.length >= 2) constructors.push(top.keys);
    }
  }
  return { order, constructors };
}

/**
 * What the Lua prelude needs (see its ordered output): each named key's rank, and for each constructor
 * whose keys' rank order is not their written order, its key set (keys in rank order, joined by "\n";
 * no key holds a newline) mapped to its written order, joined the same way. The first constructor of a
 * key set wins.
 */
export function keyRanks(source: string): { ranks: [string, number][]; shapes: [string, string][] } {
  const { order, constructors } = keyOrder(source);
  const rank = new Map(order.map((k, i) => [k, i + 1]));
  const shapes = new Map<string, string>();
  for (const keys of constructors) {
    const written = keys.join("\n");
    const set = [...keys].sort((a, b) => rank.get(a)! - rank.get(b)!).join("\n");
    if (!shapes.has(set)) shapes.set(set, written);
  }
  return { ranks: [...rank], shapes: [...shapes].filter(([set, written]) => set !== written) };
}
