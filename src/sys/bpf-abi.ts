// Numbers and struct layouts of the bpf(2) UAPI (linux/bpf.h) that ipft uses, in one place.

export const BpfCmd = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  PROG_TEST_RUN: 10,
  OBJ_GET_INFO_BY_FD: 15,
  RAW_TRACEPOINT_OPEN: 17,
  BTF_GET_FD_BY_ID: 19,
  BTF_GET_NEXT_ID: 23,
  LINK_CREATE: 28,
} as const;

export const MapType = {
  HASH: 1,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  RINGBUF: 27,
} as const;

export const ProgType = {
  KPROBE: 2,
  XDP: 6,
  RAW_TRACEPOINT: 17,
  TRACING: 26,
} as const;

export const AttachType = {
  NONE: 0,
  TRACE_RAW_TP: 23,
  TRACE_FENTRY: 24,
  TRACE_FEXIT: 25,
  PERF_EVENT: 41,
  TRACE_KPROBE_MULTI: 42,
} as const;

/** Size we pass for bpf_attr: large enough for every command used here; the kernel zero-checks the tail. */
export const ATTR_SIZE = 144;

/** BPF_MAP_CREATE */
export const MapCreate = {
  map_type: 0,
  key_size: 4,
  value_size: 8,
  max_entries: 12,
  map_flags: 16,
  map_name: 28, // char[16]
} as const;

/** BPF_MAP_*_ELEM */
export const MapElem = { map_fd: 0, key: 8, value: 16, flags: 24 } as const;

/** BPF_PROG_LOAD */
export const ProgLoad = {
  prog_type: 0,
  insn_cnt: 4,
  insns: 8,
  license: 16,
  log_level: 24,
  log_size: 28,
  log_buf: 32,
  kern_version: 40,
  prog_flags: 44,
  prog_name: 48, // char[16]
  expected_attach_type: 68,
  attach_btf_id: 108,
  attach_btf_obj_fd: 112,
} as const;

/** BPF_PROG_TEST_RUN (alias BPF_PROG_RUN): runs a loaded program once or `repeat` times on given data. */
export const TestRun = {
  prog_fd: 0,
  retval: 4,
  data_size_in: 8,
  data_size_out: 12,
  data_in: 16,
  data_out: 24,
  repeat: 32,
  duration: 36,
  ctx_size_in: 40,
  ctx_size_out: 44,
  ctx_in: 48,
  ctx_out: 56,
  flags: 64,
  cpu: 68,
  batch_size: 72,
} as const;

/** BPF_RAW_TRACEPOINT_OPEN */
export const RawTpOpen = { name: 0, prog_fd: 8 } as const;

/** BPF_LINK_CREATE; the union after `flags` depends on the attach type. */
export const LinkCreate = {
  prog_fd: 0,
  target_fd: 4,
  attach_type: 8,
  flags: 12,
  // kprobe_multi
  km_flags: 16,
  km_cnt: 20,
  km_syms: 24,
  km_addrs: 32,
  km_cookies: 40,
  // tracing (fentry/fexit)
  target_btf_id: 16,
  // perf_event
  perf_bpf_cookie: 16,
} as const;

/** BPF_OBJ_GET_INFO_BY_FD */
export const InfoByFd = { bpf_fd: 0, info_len: 4, info: 8 } as const;

/** struct bpf_prog_info, the part read here: recursion_misses (runs the kernel skipped because the
 * program was already running on that CPU) arrived in 5.12, so a kernel whose info is shorter lacks it. */
export const ProgInfo = { recursion_misses: 208, SIZE: 232 } as const;

/** struct bpf_link_info, the part read here. `missed` (kprobe recursion the kernel counted) arrived in
 * 6.7 for both kprobe_multi and perf-event kprobe links; the union is as large before, so only the kernel's
 * version tells whether the slot is filled. */
export const LinkInfo = {
  type: 0,
  km_missed: 32,
  perf_type: 16,
  perf_kprobe_missed: 48,
  SIZE: 64,
} as const;

/** enum bpf_link_type, the ones whose info has `missed`. */
export const LinkType = { PERF_EVENT: 7, KPROBE_MULTI: 8 } as const;

/** enum bpf_perf_event_type: kprobes and kretprobes. */
export const PerfEventType = { KPROBE: 3, KRETPROBE: 4 } as const;

/** BPF_BTF_GET_NEXT_ID (start_id, next_id) and BPF_BTF_GET_FD_BY_ID (btf_id shares start_id's place). */
export const GetId = { start_id: 0, btf_id: 0, next_id: 4, open_flags: 8 } as const;

/** struct bpf_btf_info, as filled by BPF_OBJ_GET_INFO_BY_FD on a BTF fd. */
export const BtfInfo = {
  btf: 0,
  btf_size: 8,
  id: 12,
  name: 16,
  name_len: 24,
  kernel_btf: 28,
  SIZE: 32,
} as const;

/** Helper ids that ipft's own programs call, and those the module ABI guard knows (linux/bpf.h enum
 * bpf_func_id). */
export const Helper = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  probe_read: 4,
  ktime_get_ns: 5,
  get_smp_processor_id: 8,
  get_current_pid_tgid: 14,
  get_current_comm: 16,
  probe_read_str: 45,
  get_stack: 67,
  probe_read_user: 112,
  probe_read_kernel: 113,
  probe_read_user_str: 114,
  probe_read_kernel_str: 115,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  get_func_ip: 173,
} as const;

/** BPF_PSEUDO_MAP_FD: src_reg of a ld_imm64 that loads a map by fd. */
export const PSEUDO_MAP_FD = 1;

/** The verifier's instruction limit for privileged programs (BPF_COMPLEXITY_LIMIT_INSNS = 1M, but
 * BPF_MAXINSNS = 4096 for the raw count of unprivileged; privileged programs may have up to 1M). */
export const MAX_INSNS = 1_000_000;
