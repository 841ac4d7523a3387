export { type BtfQueries, type DumpValue, Script, ScriptError, type ScriptEnv } from "./script.js";
