/**
 * A minimal protocol-buffers wire-format reader and writer: enough to walk a message's fields,
 * copy the ones left alone byte for byte, and write new ones. No schema; the caller knows the
 * field numbers. (Used to rewrite ONNX models in the worker without a protobuf library.)
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export interface Field {
  no: number;
  wire: number;
  /** Byte range of the whole field (tag included) in the message. */
  start: number;
  end: number;
  /** WIRE_LEN: the payload's range; otherwise the value's. */
  valueStart: number;
  valueEnd: number;
  /** WIRE_VARINT: the value (exact up to 2^53). */
  varint: number;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new Error('protobuf: truncated varint');
    value += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) return [value, pos + i + 1];
  }
  throw new Error('protobuf: varint too long');
}

/** The fields of the message in `buf[from, to)`, in order. */
export function fields(buf: Uint8Array, from = 0, to = buf.length): Field[] {
  const out: Field[] = [];
  let pos = from;
  while (pos < to) {
    const start = pos;
    const [tag, p1] = readVarint(buf, pos);
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    let valueStart = p1;
    let valueEnd: number;
    let varint = 0;
    if (wire === WIRE_VARINT) {
      [varint, valueEnd] = readVarint(buf, p1);
    } else if (wire === WIRE_I64) valueEnd = p1 + 8;
    else if (wire === WIRE_I32) valueEnd = p1 + 4;
    else if (wire === WIRE_LEN) {
      const [len, p2] = readVarint(buf, p1);
      valueStart = p2;
      valueEnd = p2 + len;
    } else throw new Error(`protobuf: unsupported wire type ${wire} at byte ${start}`);
    if (valueEnd > to) throw new Error(`protobuf: field ${no} runs past its message (byte ${start})`);
    out.push({ no, wire, start, end: valueEnd, valueStart, valueEnd, varint });
    pos = valueEnd;
  }
  return out;
}

const decoder = new TextDecoder();
export function str(buf: Uint8Array, f: Field): string {
  return decoder.decode(buf.subarray(f.valueStart, f.valueEnd));
}

/** Repeated int64 field values, packed or not. */
export function int64s(buf: Uint8Array, fs: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fs) {
    if (f.no !== no) continue;
    if (f.wire === WIRE_VARINT) out.push(f.varint);
    else if (f.wire === WIRE_LEN) {
      let p = f.valueStart;
      while (p < f.valueEnd) {
        const [v, next] = readVarint(buf, p);
        out.push(v);
        p = next;
      }
    }
  }
  return out;
}

/** Bytes written only when the message is finished, straight into the output (no copy of their own). */
export interface Deferred {
  size: number;
  fill(out: Uint8Array, offset: number): void;
}

/** Bytes of an encoded message under construction. */
export class Writer {
  private chunks: (Uint8Array | Deferred)[] = [];
  length = 0;

  raw(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }

  deferred(d: Deferred): this {
    this.chunks.push(d);
    this.length += d.size;
    return this;
  }

  varint(v: number): this {
    const b: number[] = [];
    let x = v;
    while (x >= 0x80) {
      b.push((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    b.push(x);
    return this.raw(Uint8Array.from(b));
  }

  tag(no: number, wire: number): this {
    return this.varint(no * 8 + wire);
  }

  int(no: number, v: number): this {
    return this.tag(no, WIRE_VARINT).varint(v);
  }

  bytes(no: number, payload: Uint8Array | Writer | Deferred): this {
    if (payload instanceof Writer) {
      this.tag(no, WIRE_LEN).varint(payload.length);
      for (const c of payload.chunks) this.piece(c);
    } else if (payload instanceof Uint8Array) this.tag(no, WIRE_LEN).varint(payload.length).raw(payload);
    else this.tag(no, WIRE_LEN).varint(payload.size).deferred(payload);
    return this;
  }

  private piece(c: Uint8Array | Deferred): this {
    return c instanceof Uint8Array ? this.raw(c) : this.deferred(c);
  }

  string(no: number, s: string): this {
    return this.bytes(no, new TextEncoder().encode(s));
  }

  /** One contiguous buffer (the caller's chunks are copied once; deferred ones fill it in place). */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const c of this.chunks) {
      if (c instanceof Uint8Array) {
        out.set(c, p);
        p += c.length;
      } else {
        c.fill(out, p);
        p += c.size;
      }
    }
    return out;
  }
}
