// ipft --gen module|program: print eBPF one instruction per line, `INDEX: HEX16  DISASSEMBLY`.
// module: the script's emit() output. program: a whole caller program around it, module lines marked
// (map fds print as 0: no map is created).
import { decode, disasmProgram } from "../../asm/index.js";
import { UserError } from "../../core/errors.js";
import { assertModule } from "../../program/module-abi.js";
import { loadKernelView } from "../../session/kernel-view.js";
import { callerFor, listProgram } from "../../session/programs.js";
import { withScript } from "../../session/script-host.js";
import { prepare, quietIo } from "../../session/session.js";
import type { Options } from "../options.js";

export function runGen(opts: Options): number {
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: false });
  return withScript(opts, kernel, (script) => {
    if (opts.gen === "module") {
      const bytes = script!.emit();
      for (const l of script!.describe?.() ?? []) process.stdout.write(`; ${l}\n`);
      const lines = bytes.length % 8 === 0 ? disasmProgram(decode(bytes), kernel.helperName) : [];
      process.stdout.write(lines.length ? `${lines.join("\n")}\n` : "");
      assertModule(bytes, { helperName: kernel.helperName });
      return 0;
    }
    const prep = prepare(opts, kernel, script, quietIo(opts.verbose), true);
    const first = prep.backends[0];
    const unit = first?.units[0];
    if (!first || !unit) throw new UserError("no program to show: nothing matches the filters");
    const prog = callerFor(unit, {
      markOffset: kernel.markOffset,
      mark: opts.mark!,
      mask: opts.mask,
      ringFd: 0,
      lostFd: 0,
      probeRead: prep.probeRead,
      module: prep.module,
    });
    process.stdout.write(
      `; ${first.backend.name} program ${unit.name}, module at ${prog.moduleStart}..${prog.moduleEnd - 1}\n`,
    );
    process.stdout.write(`${listProgram(prog, kernel.helperName).join("\n")}\n`);
    return 0;
  });
}
