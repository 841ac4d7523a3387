// BTF: parsing (in place, split BTF for modules) and type queries.
export { type ArrayInfo, Btf, type Member, type Param } from "./btf.js";
export { type KernelBtf, loadKernelBtf } from "./kernel.js";
export * from "./kinds.js";
export { type FoundMember, findComposite, findMember, sizeOfId, typeName } from "./queries.js";
