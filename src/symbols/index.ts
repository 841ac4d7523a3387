export { Kallsyms, KallsymsError, type KernelSymbol } from "./kallsyms.js";
export { availableFilterFunctions, findTracefs, parseFilterFunctions } from "./tracefs.js";
