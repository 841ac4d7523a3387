// Kernel symbols (kallsyms) and tracefs (where ftrace lists the functions it can attach to).
export { type CodeRange, Kallsyms, KallsymsError, type KernelSymbol } from "./kallsyms.js";
export { KPROBE_BLACKLIST, parseKprobeBlacklist, readKprobeBlacklist } from "./kprobe-blacklist.js";
export { checkKallsymsReadable, LazyKallsyms, type SymbolTable } from "./lazy-kallsyms.js";
export {
  availableFilterFunctions,
  findTracefs,
  parseFilterFunctions,
  readFilterFunctions,
} from "./tracefs.js";
