import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script, type ScriptEnv } from "../../src/script/index.js";
import { tempDir } from "../support/temp-dir.js";

/** A small fake kernel for ipft.offsetof/sizeof/typeof. */
export const ENV: ScriptEnv = {
  btf: {
    offsetof: (t, m) => {
      if (t === "sk_buff" && m === "mark") return 164;
      if (t === "sk_buff" && m === "len") return 112;
      throw new Error(`struct ${t} has no member "${m}"`);
    },
    sizeof: (t) => {
      if (t === "__u32" || t === "unsigned int") return 4;
      throw new Error(`BTF has no type named "${t}"`);
    },
    typeof: (t, m) => {
      if (t === "sk_buff" && m === "mark") return "__u32";
      throw new Error(`struct ${t} has no member "${m}"`);
    },
  },
  helpers: new Map([
    ["map_lookup_elem", 1],
    ["probe_read", 4],
    ["ktime_get_ns", 5],
    ["probe_read_kernel", 113],
  ]),
};

const dir = tempDir("ipft-script");
let n = 0;

/** Writes `code` to a .lua file and loads it. */
export function script(code: string, env: ScriptEnv = ENV): Script {
  const path = join(dir, `s${n++}.lua`);
  writeFileSync(path, code);
  return Script.load(path, env);
}

export function scriptPath(code: string): string {
  const path = join(dir, `s${n++}.lua`);
  writeFileSync(path, code);
  return path;
}

/** The bytes an expression of BPF macros returns (through emit()). */
export function emitted(expr: string): string {
  const s = script(`function emit() local code = ${expr} return code end`);
  try {
    return Buffer.from(s.emit()).toString("hex");
  } finally {
    s.close();
  }
}

/** One instruction, hand-encoded: code, src<<4|dst, off le16, imm le32. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): string {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm | 0, 4);
  return b.toString("hex");
}
