/**
 * What a FlowTracker gave, put together per connection direction, with the
 * checks every consumer relies on: each direction's segments come in
 * order, each starts where the last ended plus the gap it declares, and
 * nothing follows a direction's end.
 */
import * as assert from 'node:assert/strict';
import type { FlowKey } from '../../src/model/flow';
import type { Segment, StreamEnd } from '../../src/model/segment';
import type { FlowOutput } from '../../src/net/flow-tracker';

export interface DirStream {
  conn: number;
  dir: 'c2s' | 's2c';
  key: FlowKey;
  /** The copied bytes in order (a declared gap adds nothing). */
  bytes: Buffer;
  /** Bytes of the stream covered (copied or not), gaps excluded. */
  covered: number;
  /** Each declared gap's size, in order. */
  gaps: number[];
  end: StreamEnd | undefined;
  midStream: boolean;
  segments: Segment[];
}

export function collectStreams(outs: FlowOutput[]): Map<string, DirStream> {
  const m = new Map<string, DirStream>();
  const parts = new Map<string, Buffer[]>();
  for (const o of outs) {
    if (o.kind !== 'segment') continue;
    const k = `${o.conn}/${o.dir}`;
    let s = m.get(k);
    if (!s) {
      s = {
        conn: o.conn,
        dir: o.dir,
        key: o.key,
        bytes: Buffer.alloc(0),
        covered: 0,
        gaps: [],
        end: undefined,
        midStream: o.midStream,
        segments: [],
      };
      m.set(k, s);
      parts.set(k, []);
    }
    assert.equal(s.end, undefined, `${k}: a segment after the direction's end (${s.end})`);
    const expected = s.covered + s.gaps.reduce((a, b) => a + b, 0) + o.gap;
    assert.equal(o.offset, expected, `${k}: segment at ${o.offset}, expected ${expected}`);
    assert.ok(o.bytes.length <= o.len, `${k}: more bytes than length`);
    if (o.gap > 0) s.gaps.push(o.gap);
    s.covered += o.len;
    s.end = o.end;
    s.segments.push(o);
    parts.get(k)!.push(Buffer.from(o.bytes));
  }
  for (const [k, s] of m) s.bytes = Buffer.concat(parts.get(k)!);
  return m;
}

/** The one stream of a direction (by dir, when only one connection is expected). */
export function only(m: Map<string, DirStream>, dir: 'c2s' | 's2c', conn?: number): DirStream {
  const found = [...m.values()].filter((s) => s.dir === dir && (conn === undefined || s.conn === conn));
  assert.equal(found.length, 1, `expected one ${dir} stream, found ${found.length}`);
  return found[0]!;
}
