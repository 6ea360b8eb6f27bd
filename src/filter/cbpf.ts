/**
 * Classic BPF as libpcap's pcap_compile produces it: 8-byte instructions
 * (u16 code, u8 jt, u8 jf, u32 k, host byte order), decoded here, and
 * printed the way `tcpdump -d` does for `capture -d`.
 */

export interface ClassicInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/* Instruction classes and fields of classic BPF (pcap/bpf.h). */
export const C = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  W: 0x00,
  H: 0x08,
  B: 0x10,
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  LEN: 0x80,
  MSH: 0xa0,
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  K: 0x00,
  X: 0x08,
  A: 0x10,
  TAX: 0x00,
  TXA: 0x80,
} as const;

/** Scratch memory words of the classic machine. */
export const MEMWORDS = 16;

export const cls = (code: number): number => code & 0x07;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;
export const op = (code: number): number => code & 0xf0;
export const src = (code: number): number => code & 0x08;
export const rval = (code: number): number => code & 0x18;
export const miscop = (code: number): number => code & 0xf8;

export function decodeClassic(b: Uint8Array): ClassicInsn[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: ClassicInsn[] = [];
  for (let o = 0; o + 8 <= b.byteLength; o += 8) {
    out.push({ code: v.getUint16(o, true), jt: v.getUint8(o + 2), jf: v.getUint8(o + 3), k: v.getUint32(o + 4, true) });
  }
  return out;
}

export function encodeClassic(insns: ClassicInsn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    b.writeUInt16LE(i.code, n * 8);
    b.writeUInt8(i.jt, n * 8 + 2);
    b.writeUInt8(i.jf, n * 8 + 3);
    b.writeUInt32LE(i.k >>> 0, n * 8 + 4);
  });
  return b;
}

const ALU_NAMES: Record<number, string> = {
  [C.ADD]: 'add',
  [C.SUB]: 'sub',
  [C.MUL]: 'mul',
  [C.DIV]: 'div',
  [C.OR]: 'or',
  [C.AND]: 'and',
  [C.LSH]: 'lsh',
  [C.RSH]: 'rsh',
  [C.MOD]: 'mod',
  [C.XOR]: 'xor',
};
const JMP_NAMES: Record<number, string> = { [C.JEQ]: 'jeq', [C.JGT]: 'jgt', [C.JGE]: 'jge', [C.JSET]: 'jset' };
const SIZE_SUFFIX: Record<number, string> = { [C.W]: '', [C.H]: 'h', [C.B]: 'b' };

/** One instruction in tcpdump -d's spelling. */
export function classicText(i: ClassicInsn, pc: number): string {
  const k = i.k >>> 0;
  const hex = `#0x${k.toString(16)}`;
  const line = (opName: string, arg: string): string => `(${String(pc).padStart(3, '0')}) ${opName.padEnd(8)}${arg}`;
  const jumps = (arg: string): string =>
    `(${String(pc).padStart(3, '0')}) ${JMP_NAMES[op(i.code)]!.padEnd(8)}${arg.padEnd(16)}jt ${pc + 1 + i.jt}\tjf ${pc + 1 + i.jf}`;
  switch (cls(i.code)) {
    case C.LD: {
      const s = SIZE_SUFFIX[size(i.code)] ?? '?';
      switch (mode(i.code)) {
        case C.IMM:
          return line('ld', hex);
        case C.ABS:
          return line(`ld${s}`, `[${k}]`);
        case C.IND:
          return line(`ld${s}`, `[x + ${k}]`);
        case C.MEM:
          return line('ld', `M[${k}]`);
        case C.LEN:
          return line('ld', '#pktlen');
      }
      break;
    }
    case C.LDX:
      switch (mode(i.code)) {
        case C.IMM:
          return line('ldx', hex);
        case C.MEM:
          return line('ldx', `M[${k}]`);
        case C.LEN:
          return line('ldx', '#pktlen');
        case C.MSH:
          return line('ldxb', `4*([${k}]&0xf)`);
      }
      break;
    case C.ST:
      return line('st', `M[${k}]`);
    case C.STX:
      return line('stx', `M[${k}]`);
    case C.ALU:
      if (op(i.code) === C.NEG) return line('neg', '');
      return line(ALU_NAMES[op(i.code)] ?? '?', src(i.code) === C.X ? 'x' : hex);
    case C.JMP:
      if (op(i.code) === C.JA) return line('ja', String(pc + 1 + k));
      return jumps(src(i.code) === C.X ? 'x' : hex);
    case C.RET:
      return line('ret', rval(i.code) === C.A ? 'a' : rval(i.code) === C.X ? 'x' : `#${k}`);
    case C.MISC:
      return line(miscop(i.code) === C.TXA ? 'txa' : 'tax', '');
  }
  return line('unimp', `0x${i.code.toString(16)}`);
}
