// BTF: parsing, type queries, attach-point discovery.
export { type AttachKind, type AttachPoint, discoverAttachPoints } from "./attach-points.js";
export { Btf, type Member } from "./btf.js";
export { type KernelBtf, loadKernelBtf } from "./kernel.js";
export { BTF_KIND, BtfError } from "./kinds.js";
export { findComposite, findMember, sizeOfId, typeName } from "./queries.js";
