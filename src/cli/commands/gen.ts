// ipft --gen module|program: print eBPF one instruction per line, `INDEX: HEX16  DISASSEMBLY`.
// module: the script's emit() output. program: a whole main program around it, module lines marked
// (map fds print as 0: no map is created).
import { decode, disasmProgram } from "../../asm/index.js";
import { UserError } from "../../core/errors.js";
import { assertModule } from "../../program/module-abi.js";
import { stdIo } from "../../session/io.js";
import { KernelObjects } from "../../session/kernel-objects.js";
import { loadKernelView } from "../../session/kernel-view.js";
import { listProgram, mainProgramFor } from "../../session/load.js";
import { prepareSession } from "../../session/prepare.js";
import { withScript } from "../../session/script-host.js";
import { sessionConfig } from "../config.js";
import type { Options } from "../options.js";

export function runGen(opts: Options): number {
  const config = sessionConfig(opts);
  const io = stdIo(config.verbose);
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: false });
  return withScript(config.module, kernel, (script) => {
    if (opts.gen === "module") {
      const bytes = script!.emit();
      for (const l of script!.describe?.() ?? []) io.out.write(`; ${l}\n`);
      const lines = bytes.length % 8 === 0 ? disasmProgram(decode(bytes), kernel.helperName) : [];
      io.out.write(lines.length ? `${lines.join("\n")}\n` : "");
      assertModule(bytes, { helperName: kernel.helperName });
      return 0;
    }
    const kobj = new KernelObjects();
    try {
      const { built, inputs } = prepareSession(config, kernel, script, io, kobj, "print");
      const first = built.backends[0];
      const unit = first?.units[0];
      if (!first || !unit) throw new UserError("no program to show: nothing matches the filters");
      const prog = mainProgramFor(unit, inputs);
      io.out.write(
        `; ${first.backend.name} program ${unit.name}, module at ${prog.moduleStart}..${prog.moduleEnd - 1}\n`,
      );
      io.out.write(`${listProgram(prog, kernel.helperName).join("\n")}\n`);
      return 0;
    } finally {
      kobj.closeAll();
    }
  });
}
