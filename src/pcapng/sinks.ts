// Where pcapng blocks go: a file descriptor written whole block by whole block (the guarantee writer.ts
// describes), or memory. A failed write is a PcapngOutputError.
import { closeSync, openSync, writeSync } from "node:fs";
import { UserError } from "../core/errors.js";

/** Where blocks go. `write` gets one or more complete blocks; the bytes are valid only during the call. */
export interface BlockSink {
  write(blocks: Uint8Array): void;
  /** Writes what is buffered. */
  flush(): void;
  /** Flushes and releases the sink (a file is closed, standard output is left open). */
  close(): void;
}

/** A failed write to the pcapng output (full disk, closed pipe): what happened and what is in the file. */
export class PcapngOutputError extends UserError {}

export interface FdSinkOptions {
  /** Bytes of whole blocks gathered before a write(2); 0 writes each block at once. Default 64 KiB. */
  bufferBytes?: number;
  /** What to call the output in messages (a path, or "standard output"). */
  name?: string;
  /** Close the fd in `close()` (true for files this module opened). */
  closeFd?: boolean;
  /** fs.writeSync's shape; replaced in tests to return short counts and EAGAIN. */
  writeSync?: (fd: number, buf: Uint8Array, off: number, len: number) => number;
  /** How to wait for a non-blocking fd (a pipe whose reader is slow) to drain; default sleeps 1 ms. */
  waitWritable?: () => void;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepOneMs = () => {
  Atomics.wait(sleepCell, 0, 0, 1);
};

/**
 * A synchronous sink on a file descriptor. Handles short writes (writes the rest) and EAGAIN (a
 * non-blocking pipe that is full: waits and tries again), so a block is never dropped half written by us.
 */
export class FdSink implements BlockSink {
  readonly name: string;
  /** Bytes handed to write(2) and accepted by it. */
  written = 0;
  private readonly buf: Uint8Array;
  private used = 0;
  private closed = false;
  private readonly writeFn: (fd: number, buf: Uint8Array, off: number, len: number) => number;
  private readonly wait: () => void;
  private readonly closeFd: boolean;

  constructor(
    private readonly fd: number,
    opts: FdSinkOptions = {},
  ) {
    this.name = opts.name ?? `fd ${fd}`;
    this.buf = new Uint8Array(opts.bufferBytes ?? 64 * 1024);
    this.writeFn = opts.writeSync ?? ((f, b, o, l) => writeSync(f, b, o, l));
    this.wait = opts.waitWritable ?? sleepOneMs;
    this.closeFd = opts.closeFd ?? false;
  }

  write(blocks: Uint8Array): void {
    if (this.closed) throw new Error(`pcapng sink ${this.name} is closed`);
    if (this.used + blocks.length > this.buf.length) this.flush();
    if (blocks.length > this.buf.length) {
      this.writeAll(blocks);
      return;
    }
    this.buf.set(blocks, this.used);
    this.used += blocks.length;
  }

  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.writeAll(this.buf.subarray(0, n));
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      if (this.closeFd) closeSync(this.fd);
    }
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      let n: number;
      try {
        n = this.writeFn(this.fd, bytes, off, bytes.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") {
          this.wait();
          continue;
        }
        if (code === "EINTR") continue;
        throw this.failure(code, e);
      }
      off += n;
      this.written += n;
    }
  }

  private failure(code: string | undefined, e: unknown): Error {
    const cut = "the file ends with the last complete block written before it";
    if (code === "EPIPE")
      return new PcapngOutputError(`pcapng output ${this.name}: the reading end was closed (EPIPE)`);
    if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG")
      return new PcapngOutputError(
        `pcapng output ${this.name}: ${code === "EFBIG" ? "file too large" : "no space left on device"} (${code}); ${cut}`,
      );
    if (code) return new PcapngOutputError(`pcapng output ${this.name}: write failed (${code}); ${cut}`);
    return e as Error;
  }
}

/**
 * Opens the output named on the command line: "-" is standard output (left open on close, for
 * `ipft -w - | tshark -r -`), anything else a file created or truncated with mode 0644.
 */
export function openBlockSink(path: string, opts: Omit<FdSinkOptions, "name" | "closeFd"> = {}): FdSink {
  if (path === "-") return new FdSink(1, { ...opts, name: "standard output" });
  let fd: number;
  try {
    fd = openSync(path, "w", 0o644);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "its directory does not exist"
        : err.code === "EACCES" || err.code === "EPERM"
          ? "permission denied"
          : err.code === "EISDIR"
            ? "it is a directory"
            : (err.code ?? err.message);
    throw new PcapngOutputError(`cannot write the pcapng file ${path}: ${why}`);
  }
  return new FdSink(fd, { ...opts, name: path, closeFd: true });
}

/** Keeps every block in memory (tests, and callers that want the bytes). */
export class MemorySink implements BlockSink {
  private chunks: Uint8Array[] = [];
  write(blocks: Uint8Array): void {
    this.chunks.push(blocks.slice());
  }
  flush(): void {}
  close(): void {}
  /** A copy of everything written (a plain Uint8Array: its slice() copies). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
