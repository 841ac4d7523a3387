// Which helpers a program type may call, asked of the verifier itself: a one-call program either trips on
// "unknown func"/"cannot use helper" (not allowed) or on something else (allowed, arguments aside).
import { asm, encode } from "../asm/index.js";
import { loadProgram } from "../sys/bpf.js";
import { close } from "../sys/libc.js";

const cache = new Map<string, boolean>();

export function helperAllowed(progType: number, expectedAttachType: number | undefined, id: number): boolean {
  const key = `${progType}/${expectedAttachType ?? 0}/${id}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const r = loadProgram({
    type: progType,
    insns: encode([asm.call(id), asm.mov64Imm(0, 0), asm.exit()]),
    name: "ipft_helper",
    ...(expectedAttachType !== undefined ? { expectedAttachType } : {}),
  });
  close(r.fd);
  const allowed = r.fd >= 0 || !/unknown func|cannot use helper|invalid func/.test(r.log);
  cache.set(key, allowed);
  return allowed;
}
