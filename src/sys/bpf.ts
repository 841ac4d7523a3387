// bpf(2) commands as functions. Layouts come from bpf-abi.ts; raw calls from libc.ts.
import {
  ATTR_SIZE,
  AttachType,
  BpfCmd,
  BtfInfo,
  GetId,
  InfoByFd,
  LinkCreate,
  LinkInfo,
  LinkType,
  MapCreate,
  MapElem,
  PerfEventType,
  ProgInfo,
  ProgLoad,
  RawTpOpen,
  TestRun,
} from "./bpf-abi.js";
import { EAGAIN, ENOSPC, SysError } from "./errno.js";
import { addressOf, bpfTry, close, keepAlive } from "./libc.js";

function attr(): Buffer {
  return Buffer.alloc(ATTR_SIZE);
}

function cName(s: string): Buffer {
  return Buffer.from(`${s}\0`, "latin1");
}

/** Object names are 15 chars of [A-Za-z0-9_.]. */
function putObjName(a: Buffer, off: number, name: string): void {
  a.write(name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 15), off, "latin1");
}

function check(r: number, what: string): number {
  if (r < 0) throw new SysError(`bpf(${what})`, -r);
  return r;
}

export interface MapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  name: string;
  flags?: number;
}

export function createMap(spec: MapSpec): number {
  const a = attr();
  a.writeUInt32LE(spec.type, MapCreate.map_type);
  a.writeUInt32LE(spec.keySize, MapCreate.key_size);
  a.writeUInt32LE(spec.valueSize, MapCreate.value_size);
  a.writeUInt32LE(spec.maxEntries, MapCreate.max_entries);
  a.writeUInt32LE(spec.flags ?? 0, MapCreate.map_flags);
  putObjName(a, MapCreate.map_name, spec.name);
  return check(bpfTry(BpfCmd.MAP_CREATE, a), `BPF_MAP_CREATE ${spec.name}`);
}

/** Looks a key up; value must be sized for the map (per-CPU maps: value_size rounded to 8 times nr CPUs). */
export function lookupElem(mapFd: number, key: Uint8Array, value: Uint8Array): boolean {
  const a = attr();
  a.writeUInt32LE(mapFd, MapElem.map_fd);
  a.writeBigUInt64LE(addressOf(key), MapElem.key);
  a.writeBigUInt64LE(addressOf(value), MapElem.value);
  const r = bpfTry(BpfCmd.MAP_LOOKUP_ELEM, a);
  keepAlive(key, value);
  if (r === -2) return false;
  check(r, "BPF_MAP_LOOKUP_ELEM");
  return true;
}

/** The key after `key` (null: the first key) into `next`; false when there is none. */
export function getNextKey(mapFd: number, key: Uint8Array | null, next: Uint8Array): boolean {
  const a = attr();
  a.writeUInt32LE(mapFd, MapElem.map_fd);
  a.writeBigUInt64LE(key ? addressOf(key) : 0n, MapElem.key);
  a.writeBigUInt64LE(addressOf(next), MapElem.value); // next_key shares value's slot
  const r = bpfTry(BpfCmd.MAP_GET_NEXT_KEY, a);
  if (key) keepAlive(key, next);
  else keepAlive(next);
  if (r === -2) return false;
  check(r, "BPF_MAP_GET_NEXT_KEY");
  return true;
}

export interface ProgSpec {
  type: number;
  insns: Uint8Array;
  name: string;
  license?: string;
  expectedAttachType?: number;
  attachBtfId?: number;
  attachBtfObjFd?: number;
}

export interface LoadResult {
  fd: number; // >= 0 on success
  errno: number; // 0 on success
  log: string; // verifier log (filled on failure)
}

const LOG_SIZES = [1 << 16, 1 << 20, 1 << 24];

/** The verifier gives up with EAGAIN when a signal is pending in the loading process (a profiler's
 * SIGPROF, a child's SIGCHLD): such a load is tried again, as libbpf does. */
const EAGAIN_TRIES = 8;

function loadRetrying(spec: ProgSpec, logLevel: number, logBuf: Buffer | null): number {
  let r = loadOnce(spec, logLevel, logBuf);
  for (let i = 1; i < EAGAIN_TRIES && r === -EAGAIN; i++) r = loadOnce(spec, logLevel, logBuf);
  return r;
}

/** Loads a program. On failure, loads again with a verifier log (growing it if it was too small). */
export function loadProgram(spec: ProgSpec): LoadResult {
  const r = loadRetrying(spec, 0, null);
  if (r >= 0) return { fd: r, errno: 0, log: "" };
  let errno = -r;
  let log = "";
  for (const size of LOG_SIZES) {
    const buf = Buffer.alloc(size);
    const r2 = loadRetrying(spec, 1, buf);
    if (r2 >= 0) {
      // Loaded with a log after failing without: a transient error (e.g. EAGAIN); keep it.
      return { fd: r2, errno: 0, log: "" };
    }
    errno = -r2;
    const end = buf.indexOf(0);
    log = buf.toString("latin1", 0, end < 0 ? buf.length : end);
    if (errno !== ENOSPC) break;
  }
  return { fd: -1, errno, log };
}

function loadOnce(spec: ProgSpec, logLevel: number, logBuf: Buffer | null): number {
  const a = attr();
  const license = cName(spec.license ?? "GPL");
  a.writeUInt32LE(spec.type, ProgLoad.prog_type);
  a.writeUInt32LE(spec.insns.length / 8, ProgLoad.insn_cnt);
  a.writeBigUInt64LE(addressOf(spec.insns), ProgLoad.insns);
  a.writeBigUInt64LE(addressOf(license), ProgLoad.license);
  if (logBuf) {
    a.writeUInt32LE(logLevel, ProgLoad.log_level);
    a.writeUInt32LE(logBuf.length, ProgLoad.log_size);
    a.writeBigUInt64LE(addressOf(logBuf), ProgLoad.log_buf);
  }
  putObjName(a, ProgLoad.prog_name, spec.name);
  a.writeUInt32LE(spec.expectedAttachType ?? AttachType.NONE, ProgLoad.expected_attach_type);
  a.writeUInt32LE(spec.attachBtfId ?? 0, ProgLoad.attach_btf_id);
  a.writeUInt32LE(spec.attachBtfObjFd ?? 0, ProgLoad.attach_btf_obj_fd);
  const r = bpfTry(BpfCmd.PROG_LOAD, a);
  keepAlive(license, spec.insns, logBuf);
  return r;
}

/** BPF_RAW_TRACEPOINT_OPEN: attaches a raw_tracepoint program by tracepoint name (or a tracing program with
 * name null). Returns the link fd, or -errno. */
export function rawTracepointOpen(progFd: number, name: string | null): number {
  const a = attr();
  const n = name === null ? null : cName(name);
  a.writeBigUInt64LE(n ? addressOf(n) : 0n, RawTpOpen.name);
  a.writeUInt32LE(progFd, RawTpOpen.prog_fd);
  const r = bpfTry(BpfCmd.RAW_TRACEPOINT_OPEN, a);
  keepAlive(n);
  return r;
}

/** BPF_LINK_CREATE for kprobe_multi: one link for many functions. Returns the link fd, or -errno. */
export function linkCreateKprobeMulti(progFd: number, symbols: string[], retprobe: boolean): number {
  const a = attr();
  const strs = symbols.map(cName);
  const ptrs = new BigUint64Array(strs.map(addressOf));
  a.writeUInt32LE(progFd, LinkCreate.prog_fd);
  a.writeUInt32LE(AttachType.TRACE_KPROBE_MULTI, LinkCreate.attach_type);
  a.writeUInt32LE(retprobe ? 1 : 0, LinkCreate.km_flags); // BPF_F_KPROBE_MULTI_RETURN
  a.writeUInt32LE(symbols.length, LinkCreate.km_cnt);
  a.writeBigUInt64LE(addressOf(new Uint8Array(ptrs.buffer)), LinkCreate.km_syms);
  const r = bpfTry(BpfCmd.LINK_CREATE, a);
  keepAlive(strs, ptrs);
  return r;
}

/** BPF_LINK_CREATE for fentry/fexit (the target is fixed at load time by attach_btf_id). */
export function linkCreateTracing(progFd: number, attachType: number): number {
  const a = attr();
  a.writeUInt32LE(progFd, LinkCreate.prog_fd);
  a.writeUInt32LE(attachType, LinkCreate.attach_type);
  return bpfTry(BpfCmd.LINK_CREATE, a);
}

/** BPF_LINK_CREATE for a perf event (kprobe PMU). Returns the link fd, or -errno. */
export function linkCreatePerfEvent(progFd: number, perfFd: number): number {
  const a = attr();
  a.writeUInt32LE(progFd, LinkCreate.prog_fd);
  a.writeUInt32LE(perfFd, LinkCreate.target_fd);
  a.writeUInt32LE(AttachType.PERF_EVENT, LinkCreate.attach_type);
  return bpfTry(BpfCmd.LINK_CREATE, a);
}

/** BPF_BTF_GET_NEXT_ID: the BTF object id after `start` (0: the first), or -errno (ENOENT: no more). */
export function btfGetNextId(start: number): number {
  const a = attr();
  a.writeUInt32LE(start, GetId.start_id);
  const r = bpfTry(BpfCmd.BTF_GET_NEXT_ID, a);
  return r < 0 ? r : a.readUInt32LE(GetId.next_id);
}

/** BPF_BTF_GET_FD_BY_ID: an fd for a kernel BTF object, or -errno. */
export function btfGetFdById(id: number): number {
  const a = attr();
  a.writeUInt32LE(id, GetId.btf_id);
  return bpfTry(BpfCmd.BTF_GET_FD_BY_ID, a);
}

/** The name of the BTF object behind `fd` ("vmlinux" or a module's name) and whether it is the kernel's. */
export function btfObjectName(fd: number): { name: string; kernel: boolean } {
  const info = Buffer.alloc(BtfInfo.SIZE);
  const name = Buffer.alloc(64);
  info.writeBigUInt64LE(addressOf(name), BtfInfo.name);
  info.writeUInt32LE(name.length, BtfInfo.name_len);
  const a = attr();
  a.writeUInt32LE(fd, InfoByFd.bpf_fd);
  a.writeUInt32LE(info.length, InfoByFd.info_len);
  a.writeBigUInt64LE(addressOf(info), InfoByFd.info);
  const r = bpfTry(BpfCmd.OBJ_GET_INFO_BY_FD, a);
  keepAlive(info, name);
  check(r, "BPF_OBJ_GET_INFO_BY_FD");
  const end = name.indexOf(0);
  return {
    name: name.toString("latin1", 0, end < 0 ? name.length : end),
    kernel: info.readUInt32LE(BtfInfo.kernel_btf) !== 0,
  };
}

/** BPF_OBJ_GET_INFO_BY_FD into `info`: the length the kernel filled (its struct may be shorter), or -errno. */
function objInfo(fd: number, info: Buffer): number {
  const a = attr();
  a.writeUInt32LE(fd, InfoByFd.bpf_fd);
  a.writeUInt32LE(info.length, InfoByFd.info_len);
  a.writeBigUInt64LE(addressOf(info), InfoByFd.info);
  const r = bpfTry(BpfCmd.OBJ_GET_INFO_BY_FD, a);
  keepAlive(info);
  return r < 0 ? r : a.readUInt32LE(InfoByFd.info_len);
}

/** A program's runs the kernel skipped because it was already running on that CPU (recursion_misses);
 * undefined when the kernel does not report it (before 5.12) or the fd is not a program. */
export function progRecursionMisses(progFd: number): number | undefined {
  const info = Buffer.alloc(ProgInfo.SIZE);
  const len = objInfo(progFd, info);
  if (len < ProgInfo.recursion_misses + 8) return undefined;
  return Number(info.readBigUInt64LE(ProgInfo.recursion_misses));
}

/** A kprobe link's missed count (a probe hit while another ran on that CPU): kprobe_multi links and
 * perf-event kprobe links, from the slot 6.7 fills. undefined for other links, or an fd that is not a
 * link (a perf event attached by ioctl). The caller knows whether the kernel fills the slot. */
export function kprobeLinkMissed(linkFd: number): number | undefined {
  const info = Buffer.alloc(LinkInfo.SIZE);
  if (objInfo(linkFd, info) < 0) return undefined;
  const type = info.readUInt32LE(LinkInfo.type);
  if (type === LinkType.KPROBE_MULTI) return Number(info.readBigUInt64LE(LinkInfo.km_missed));
  if (type !== LinkType.PERF_EVENT) return undefined;
  const perf = info.readUInt32LE(LinkInfo.perf_type);
  if (perf !== PerfEventType.KPROBE && perf !== PerfEventType.KRETPROBE) return undefined;
  return Number(info.readBigUInt64LE(LinkInfo.perf_kprobe_missed));
}

export interface TestRunResult {
  /** What the program returned (the last run's). */
  retval: number;
  /** Mean run time in nanoseconds, as the kernel measured it. */
  duration: number;
}

/** BPF_PROG_TEST_RUN: runs a loaded program `repeat` times over `data` (the packet, for the program types
 * that take one). Throws SysError on failure. */
export function testRun(progFd: number, data: Uint8Array, repeat = 1): TestRunResult {
  const a = attr();
  a.writeUInt32LE(progFd, TestRun.prog_fd);
  a.writeUInt32LE(data.length, TestRun.data_size_in);
  a.writeBigUInt64LE(addressOf(data), TestRun.data_in);
  a.writeUInt32LE(repeat, TestRun.repeat);
  const r = bpfTry(BpfCmd.PROG_TEST_RUN, a);
  keepAlive(data);
  check(r, "BPF_PROG_TEST_RUN");
  return { retval: a.readUInt32LE(TestRun.retval), duration: a.readUInt32LE(TestRun.duration) };
}

export { close };
