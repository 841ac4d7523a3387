export {
  type BtfQueries,
  type DumpValue,
  Script,
  type ScriptEnv,
  ScriptError,
} from "./script.js";
