/**
 * eBPF instructions as the kernel reads them (struct bpf_insn: u8 code,
 * u8 dst:4 src:4, s16 off, s32 imm; little-endian hosts), built one at a
 * time for the programs wirelens generates (compiled pcap filters).
 */

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export const E = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
  W: 0x00,
  H: 0x08,
  B: 0x10,
  DW: 0x18,
  IMM: 0x00,
  MEM: 0x60,
  K: 0x00,
  X: 0x08,
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
  MOV: 0xb0,
  END: 0xd0,
  TO_BE: 0x08,
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JLT: 0xa0,
  JLE: 0xb0,
  CALL: 0x80,
  EXIT: 0x90,
  PSEUDO_MAP_FD: 1,
} as const;

/** Helper ids used by generated programs (include/uapi/linux/bpf.h). */
export const HELPER = { tail_call: 12, skb_load_bytes: 26 } as const;

export const R0 = 0,
  R1 = 1,
  R2 = 2,
  R3 = 3,
  R4 = 4,
  R6 = 6,
  R7 = 7,
  R8 = 8,
  FP = 10;

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

export const I = {
  mov64Reg: (dst: number, src: number) => insn(E.ALU64 | E.MOV | E.X, dst, src, 0, 0),
  mov64Imm: (dst: number, imm: number) => insn(E.ALU64 | E.MOV | E.K, dst, 0, 0, imm | 0),
  mov32Reg: (dst: number, src: number) => insn(E.ALU | E.MOV | E.X, dst, src, 0, 0),
  mov32Imm: (dst: number, imm: number) => insn(E.ALU | E.MOV | E.K, dst, 0, 0, imm | 0),
  alu64Imm: (op: number, dst: number, imm: number) => insn(E.ALU64 | op | E.K, dst, 0, 0, imm | 0),
  alu32Imm: (op: number, dst: number, imm: number) => insn(E.ALU | op | E.K, dst, 0, 0, imm | 0),
  alu32Reg: (op: number, dst: number, src: number) => insn(E.ALU | op | E.X, dst, src, 0, 0),
  alu64Reg: (op: number, dst: number, src: number) => insn(E.ALU64 | op | E.X, dst, src, 0, 0),
  neg32: (dst: number) => insn(E.ALU | E.NEG, dst, 0, 0, 0),
  toBe: (dst: number, bits: 16 | 32) => insn(E.ALU | E.END | E.TO_BE, dst, 0, 0, bits),
  ldx: (size: number, dst: number, src: number, off: number) => insn(E.LDX | E.MEM | size, dst, src, off, 0),
  stx: (size: number, dst: number, off: number, src: number) => insn(E.STX | E.MEM | size, dst, src, off, 0),
  stImm: (size: number, dst: number, off: number, imm: number) => insn(E.ST | E.MEM | size, dst, 0, off, imm | 0),
  /** A conditional jump comparing the low 32 bits; `off` is fixed up later. */
  jmp32Imm: (op: number, dst: number, imm: number, off = 0) => insn(E.JMP32 | op | E.K, dst, 0, off, imm | 0),
  jmp32Reg: (op: number, dst: number, src: number, off = 0) => insn(E.JMP32 | op | E.X, dst, src, off, 0),
  jmpImm: (op: number, dst: number, imm: number, off = 0) => insn(E.JMP | op | E.K, dst, 0, off, imm | 0),
  ja: (off = 0) => insn(E.JMP | E.JA, 0, 0, off, 0),
  call: (helper: number) => insn(E.JMP | E.CALL, 0, 0, 0, helper),
  exit: () => insn(E.JMP | E.EXIT, 0, 0, 0, 0),
  /** The two halves of a 64-bit load of a map's fd (BPF_LD_MAP_FD). */
  ldMapFd: (dst: number, fd: number): [Insn, Insn] => [
    insn(E.LD | E.DW | E.IMM, dst, E.PSEUDO_MAP_FD, 0, fd),
    insn(0, 0, 0, 0, 0),
  ],
};

export function encodeEbpf(insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    const o = n * 8;
    b.writeUInt8(i.code, o);
    b.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), o + 1);
    b.writeInt16LE(i.off, o + 2);
    b.writeInt32LE(i.imm | 0, o + 4);
  });
  return b;
}

const ALU_TEXT: Record<number, string> = {
  [E.ADD]: '+=',
  [E.SUB]: '-=',
  [E.MUL]: '*=',
  [E.DIV]: '/=',
  [E.OR]: '|=',
  [E.AND]: '&=',
  [E.LSH]: '<<=',
  [E.RSH]: '>>=',
  [E.MOD]: '%=',
  [E.XOR]: '^=',
  [E.MOV]: '=',
};
const JMP_TEXT: Record<number, string> = {
  [E.JEQ]: '==',
  [E.JNE]: '!=',
  [E.JGT]: '>',
  [E.JGE]: '>=',
  [E.JLT]: '<',
  [E.JLE]: '<=',
  [E.JSET]: '&',
};
const SIZE_TEXT: Record<number, string> = { [E.W]: 'u32', [E.H]: 'u16', [E.B]: 'u8', [E.DW]: 'u64' };

/** One instruction in the kernel verifier's spelling (bpftool's xlated dump), for `capture -d`. */
export function ebpfText(i: Insn, pc: number): string {
  const cls = i.code & 0x07;
  const op = i.code & 0xf0;
  const reg = (n: number, w32: boolean) => (w32 ? `w${n}` : `r${n}`);
  const pre = `${String(pc).padStart(4)}: `;
  switch (cls) {
    case E.ALU:
    case E.ALU64: {
      const w = cls === E.ALU;
      if (op === E.END) return `${pre}${reg(i.dst, false)} = be${i.imm} ${reg(i.dst, false)}`;
      if (op === E.NEG) return `${pre}${reg(i.dst, w)} = -${reg(i.dst, w)}`;
      const rhs = i.code & E.X ? reg(i.src, w) : String(i.imm);
      return `${pre}${reg(i.dst, w)} ${ALU_TEXT[op] ?? '?='} ${rhs}`;
    }
    case E.LDX:
      return `${pre}r${i.dst} = *(${SIZE_TEXT[i.code & 0x18]} *)(r${i.src} ${i.off < 0 ? '-' : '+'} ${Math.abs(i.off)})`;
    case E.STX:
      return `${pre}*(${SIZE_TEXT[i.code & 0x18]} *)(r${i.dst} ${i.off < 0 ? '-' : '+'} ${Math.abs(i.off)}) = r${i.src}`;
    case E.ST:
      return `${pre}*(${SIZE_TEXT[i.code & 0x18]} *)(r${i.dst} ${i.off < 0 ? '-' : '+'} ${Math.abs(i.off)}) = ${i.imm}`;
    case E.LD:
      if (i.code === 0) return `${pre}(second half of a 64-bit load)`;
      return `${pre}r${i.dst} = map[fd ${i.imm}]`;
    case E.JMP:
    case E.JMP32: {
      if (op === E.CALL)
        return `${pre}call ${i.imm === HELPER.tail_call ? 'bpf_tail_call' : i.imm === HELPER.skb_load_bytes ? 'bpf_skb_load_bytes' : `#${i.imm}`}`;
      if (op === E.EXIT) return `${pre}exit`;
      const target = pc + 1 + i.off;
      if (op === E.JA) return `${pre}goto pc${i.off >= 0 ? '+' : ''}${i.off} (${target})`;
      const w = cls === E.JMP32;
      const rhs = i.code & E.X ? reg(i.src, w) : String(i.imm);
      return `${pre}if ${reg(i.dst, w)} ${JMP_TEXT[op] ?? '?'} ${rhs} goto pc${i.off >= 0 ? '+' : ''}${i.off} (${target})`;
    }
  }
  return `${pre}(code 0x${i.code.toString(16)})`;
}

/**
 * Drops instructions no path reaches (the verifier refuses a program with
 * any) and re-aims the jumps. 64-bit loads keep both halves.
 */
export function pruneUnreachable(insns: Insn[]): Insn[] {
  const n = insns.length;
  const reached = new Uint8Array(n);
  const todo = [0];
  while (todo.length) {
    const pc = todo.pop()!;
    if (pc >= n || reached[pc]) continue;
    reached[pc] = 1;
    const i = insns[pc]!;
    const cls = i.code & 0x07;
    const op = i.code & 0xf0;
    if (cls === E.LD && i.code === (E.LD | E.DW | E.IMM)) {
      reached[pc + 1] = 1;
      todo.push(pc + 2);
    } else if (cls === E.JMP || cls === E.JMP32) {
      if (op === E.EXIT) continue;
      if (op === E.CALL) todo.push(pc + 1);
      else if (op === E.JA) todo.push(pc + 1 + i.off);
      else todo.push(pc + 1, pc + 1 + i.off);
    } else todo.push(pc + 1);
  }
  const at = new Int32Array(n + 1);
  let k = 0;
  for (let pc = 0; pc < n; pc++) {
    at[pc] = k;
    if (reached[pc]) k++;
  }
  at[n] = k;
  const out: Insn[] = [];
  for (let pc = 0; pc < n; pc++) {
    if (!reached[pc]) continue;
    const i = insns[pc]!;
    const cls = i.code & 0x07;
    const op = i.code & 0xf0;
    const jumps = (cls === E.JMP || cls === E.JMP32) && op !== E.CALL && op !== E.EXIT;
    out.push(jumps ? { ...i, off: at[pc + 1 + i.off]! - at[pc]! - 1 } : i);
  }
  return out;
}
