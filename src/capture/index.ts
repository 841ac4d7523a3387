// Capture expressions (`skb->dev->name`, `ip->saddr:ip4`) compiled to an eBPF module, and decoded back.
export { type CaptureField, type CompiledCapture, compileCapture, describeLayout } from "./compile.js";
export { captureDumper, decodeCapture } from "./decode.js";
export { type CaptureValue, FORMATS } from "./formats.js";
export { luaCaptureChunk } from "./lua-decoder.js";
export { CaptureError, parseSpec } from "./parse.js";
