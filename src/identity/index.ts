export { changesText, type IdentityChange, identityChanges, tunnelsText } from "./changes.js";
export { decodePacket, MAX_NESTING } from "./decode.js";
export type * from "./headers.js";
export { type Container, containerOf, type NamespaceName, NamespaceNames } from "./namespace-names.js";
export { identityText, tupleText } from "./text.js";
