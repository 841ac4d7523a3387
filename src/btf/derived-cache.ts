// A small on-disk cache for what ipft derives from the kernel's BTF (the attach points, ~2,400 of them, take
// tens of milliseconds to find; reading them back takes one). Entries are named by a key the caller makes
// from the BTF's content hash, never from a file's size or mtime: /sys/kernel/btf files carry the boot's
// time, and a rebuilt kernel or module can have the same size. The cache is only ever an optimisation:
// anything odd (no writable directory, a file someone else owns or can write, a torn write, a bad checksum,
// a value that fails the caller's check) means "not cached", and the value is computed again.
//
// Where: $IPFT_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/ipft, else $HOME/.cache/ipft.
import { createHash } from "node:crypto";
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

const MAGIC = "ipft-cache 1";
/** Entries kept per kind (one per kernel and module set seen): older ones are removed on write. */
const KEEP = 16;

export interface DerivedCache {
  readonly dir: string;
  /** The value stored under kind+key, if it is intact and passes `check`. */
  get<T>(kind: string, key: string, check: (v: unknown) => v is T): T | undefined;
  /** Stores a JSON-able value; false when it could not be written (nothing else happens). */
  put(kind: string, key: string, value: unknown): boolean;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.IPFT_CACHE_DIR !== undefined) return env.IPFT_CACHE_DIR || undefined;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "ipft");
  if (env.HOME) return join(env.HOME, ".cache", "ipft");
  return undefined;
}

export function openDerivedCache(dir = cacheDir()): DerivedCache | undefined {
  if (!dir) return undefined;
  return {
    dir,
    get: (kind, key, check) => read(dir, kind, key, check),
    put: (kind, key, value) => write(dir, kind, key, value),
  };
}

const fileOf = (dir: string, kind: string, key: string) => join(dir, `${kind}-${key}.json`);
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Ours alone: owned by this user, writable by nobody else (a file another user can change is not a
 * cache, it is an input). */
function private_(st: { uid: number; mode: number }): boolean {
  const uid = process.geteuid?.() ?? st.uid;
  return st.uid === uid && (st.mode & 0o022) === 0;
}

function read<T>(dir: string, kind: string, key: string, check: (v: unknown) => v is T): T | undefined {
  let fd: number;
  try {
    fd = openSync(fileOf(dir, kind, key), "r");
  } catch {
    return undefined;
  }
  try {
    if (!private_(statSync(dir)) || !private_(fstatSync(fd))) return undefined;
    const text = readFileSync(fd, "utf8");
    const nl = text.indexOf("\n");
    // MAGIC kind key sha256(body)
    const head = text.slice(0, nl).split(" ");
    const body = text.slice(nl + 1);
    if (nl < 0 || `${head[0]} ${head[1]}` !== MAGIC || head[2] !== kind || head[3] !== key) return undefined;
    if (head[4] !== sha256(body)) return undefined;
    const v: unknown = JSON.parse(body);
    return check(v) ? v : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function write(dir: string, kind: string, key: string, value: unknown): boolean {
  const body = JSON.stringify(value);
  const file = fileOf(dir, kind, key);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!private_(statSync(dir))) return false;
    // Written aside, then renamed: a reader sees the whole entry or none.
    writeFileSync(tmp, `${MAGIC} ${kind} ${key} ${sha256(body)}\n${body}`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {}
    return false;
  }
  prune(dir, kind);
  return true;
}

function prune(dir: string, kind: string): void {
  try {
    const mine = readdirSync(dir)
      .filter((n) => n.startsWith(`${kind}-`) && n.endsWith(".json"))
      .map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { n } of mine.slice(KEEP)) unlinkSync(join(dir, n));
  } catch {
    // Another ipft pruning at the same time, or the directory went away: no matter.
  }
}
