// The capture language's syntax: `[LABEL=]EXPR[:FORMAT]`, where EXPR is a C-like path from the skb:
//   skb->len   skb->dev->name   skb->sk->__sk_common.skc_family   skb->cb[0]   skb_shinfo(skb)->gso_size
//   ip->saddr   udp->dest   (struct tcphdr *)(skb->head + skb->transport_header)
// Parsing knows nothing of BTF; types are checked when the expression is compiled.
import { UserError } from "../core/errors.js";

export class CaptureError extends UserError {}

export type Expr =
  | { k: "name"; name: string } // skb, or a header shorthand (ip, udp, ...)
  | { k: "num"; value: number }
  | { k: "member"; base: Expr; name: string; arrow: boolean }
  | { k: "index"; base: Expr; index: number }
  | { k: "cast"; struct: string; expr: Expr }
  | { k: "add"; left: Expr; right: Expr }
  | { k: "call"; fn: string; arg: Expr };

export interface CaptureSpec {
  /** What the user wrote, for messages. */
  text: string;
  label: string;
  /** The label was given (LABEL=EXPR), not made from the expression. */
  labelled: boolean;
  /** The text without its `LABEL=`: what a suggested new label goes in front of. */
  body: string;
  expr: Expr;
  format?: Format;
}

export interface Format {
  name: string;
  /** enum(NAME), flags(NAME): which BTF enum. */
  arg?: string;
}

type Tok = { t: "id" | "num" | "op"; v: string; at: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(0x[0-9a-fA-F]+|[0-9]+)|(->|[.[\]()*+]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) {
      const at = i + (/^\s*/.exec(src.slice(i))?.[0].length ?? 0);
      throw new CaptureError(`unexpected "${src[at]}" at column ${at + 1}`);
    }
    const at = m.index + m[0].length - (m[1] ?? m[2] ?? m[3])!.length;
    if (m[1] !== undefined) out.push({ t: "id", v: m[1], at });
    else if (m[2] !== undefined) out.push({ t: "num", v: m[2], at });
    else out.push({ t: "op", v: m[3]!, at });
    i = re.lastIndex;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}

  private peek(v?: string): Tok | undefined {
    const t = this.toks[this.i];
    return v === undefined || t?.v === v ? t : undefined;
  }

  private where(): string {
    const t = this.toks[this.i];
    return t ? `"${t.v}" at column ${t.at + 1}` : "the end";
  }

  private expect(v: string): void {
    if (this.toks[this.i]?.v !== v) throw new CaptureError(`expected "${v}" but found ${this.where()}`);
    this.i++;
  }

  private ident(what: string): string {
    const t = this.toks[this.i];
    if (t?.t !== "id") throw new CaptureError(`expected ${what} but found ${this.where()}`);
    this.i++;
    return t.v;
  }

  parse(): Expr {
    if (this.toks.length === 0) throw new CaptureError("empty expression");
    const e = this.sum();
    if (this.i < this.toks.length) throw new CaptureError(`unexpected ${this.where()}`);
    return e;
  }

  private sum(): Expr {
    let e = this.unary();
    while (this.peek("+")) {
      this.i++;
      e = { k: "add", left: e, right: this.unary() };
    }
    return e;
  }

  private isCast(): boolean {
    if (!this.peek("(")) return false;
    const a = this.toks[this.i + 1];
    const b = this.toks[this.i + 2];
    if (a?.v === "struct" || a?.v === "union") return true;
    return a?.t === "id" && b?.v === "*";
  }

  private unary(): Expr {
    if (this.isCast()) {
      this.i++;
      if (this.peek("struct") || this.peek("union")) this.i++;
      const struct = this.ident("a struct name");
      this.expect("*");
      this.expect(")");
      return { k: "cast", struct, expr: this.unary() };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      if (t?.v === "->" || t?.v === ".") {
        this.i++;
        e = { k: "member", base: e, name: this.ident("a member name"), arrow: t.v === "->" };
      } else if (t?.v === "[") {
        this.i++;
        const n = this.toks[this.i];
        if (n?.t !== "num") throw new CaptureError(`expected an index number but found ${this.where()}`);
        this.i++;
        this.expect("]");
        e = { k: "index", base: e, index: Number(n.v) };
      } else {
        return e;
      }
    }
  }

  private primary(): Expr {
    const t = this.toks[this.i];
    if (!t) throw new CaptureError(`"${this.src}" ends too early`);
    if (t.v === "(") {
      this.i++;
      const e = this.sum();
      this.expect(")");
      return e;
    }
    if (t.t === "num") {
      this.i++;
      return { k: "num", value: Number(t.v) };
    }
    if (t.t === "id") {
      this.i++;
      if (this.peek("(")) {
        this.i++;
        const arg = this.sum();
        this.expect(")");
        return { k: "call", fn: t.v, arg };
      }
      return { k: "name", name: t.v };
    }
    throw new CaptureError(`unexpected ${this.where()}`);
  }
}

export function parseExpr(src: string): Expr {
  return new Parser(tokenize(src), src).parse();
}

/** The expression as canonical text (also the key under which compiled values are shared). */
export function exprText(e: Expr): string {
  switch (e.k) {
    case "name":
      return e.name;
    case "num":
      return String(e.value);
    case "member":
      return `${exprText(e.base)}${e.arrow ? "->" : "."}${e.name}`;
    case "index":
      return `${exprText(e.base)}[${e.index}]`;
    case "cast":
      return `((struct ${e.struct} *)${exprText(e.expr)})`;
    case "add":
      return `(${exprText(e.left)} + ${exprText(e.right)})`;
    case "call":
      return `${e.fn}(${exprText(e.arg)})`;
  }
}

/** The last member's name (`skb->len` is len), or the one before a generic `name` (`skb->dev->name` is
 * dev); otherwise the expression's text. */
export function defaultLabel(e: Expr): string {
  let x = e;
  while (x.k === "index") x = x.base;
  if (x.k !== "member") return exprText(e).replace(/^skb->/, "");
  if (x.name === "name" && x.base.k === "member") return x.base.name;
  return x.name;
}

/** The expression's text without the leading `skb->`: the label used when the short one is taken. */
export function longLabel(e: Expr): string {
  return exprText(e).replace(/^skb->/, "");
}

const LABEL = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=(?!=)/;
const FORMAT = /:\s*([a-z0-9]+)\s*(?:\(\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*\))?\s*$/;

/** `[LABEL=]EXPR[:FORMAT]`. The default label is the expression without its leading `skb->`. */
export function parseSpec(text: string): CaptureSpec {
  let rest = text;
  let label: string | undefined;
  const lm = LABEL.exec(rest);
  if (lm) {
    label = lm[1]!;
    rest = rest.slice(lm[0].length);
  }
  const body = rest.trim();
  let format: Format | undefined;
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const fm = FORMAT.exec(rest.slice(colon));
    if (!fm)
      throw new CaptureError(`"${rest.slice(colon + 1).trim()}" is not a format (see docs/capture.md)`);
    format = { name: fm[1]!, ...(fm[2] !== undefined ? { arg: fm[2].trim() } : {}) };
    rest = rest.slice(0, colon);
  }
  const expr = parseExpr(rest);
  return {
    text: text.trim(),
    label: label ?? defaultLabel(expr),
    labelled: label !== undefined,
    body,
    expr,
    ...(format ? { format } : {}),
  };
}
