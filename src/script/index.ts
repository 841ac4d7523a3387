export {
  type BtfQueries,
  type DumpFormat,
  type DumpValue,
  Script,
  type ScriptEnv,
  ScriptError,
} from "./script.js";
