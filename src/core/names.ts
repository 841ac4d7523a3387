// Names shared by every layer: backends, tracers, output formats and --gen targets. Kept here, below
// everything, so a lower layer never has to import them from the command line's module.
export const BACKENDS = ["kprobe", "kprobe-multi", "ftrace", "tracepoint"] as const;
export type BackendName = (typeof BACKENDS)[number];
export type FunctionBackendName = Exclude<BackendName, "tracepoint">;

export const TRACERS = ["function", "function_graph"] as const;
export type TracerName = (typeof TRACERS)[number];

export const OUTPUTS = ["aggregate", "stream", "json"] as const;
export type OutputName = (typeof OUTPUTS)[number];

export const GEN_TARGETS = ["module", "program"] as const;
export type GenTarget = (typeof GEN_TARGETS)[number];
