/**
 * libpcap's classic BPF program (pcap_compile) translated to eBPF, so a
 * pcap-filter expression runs in the kernel as its own program on the
 * cgroup_skb and TC hooks. The classic machine maps onto the eBPF one:
 *   A -> w7, X -> w8 (32-bit, zero-extended), ctx -> r6,
 *   M[0..15] -> the stack at fp-64..fp-4, a load buffer at fp-72.
 * A packet load (ld/ldh/ldb [k] or [x+k], ldxb 4*([k]&0xf)) becomes
 * bpf_skb_load_bytes into the buffer, then a byte swap to host order: it
 * works on both hook types (cgroup_skb has no LD_ABS) and on non-linear
 * packets. Out of range fails the helper, which rejects, as libpcap's own
 * interpreter does. Comparisons use 32-bit jumps (JMP32) so constants of
 * 2^31 and more compare unsigned, as in classic BPF. Division or modulo by
 * X = 0 rejects; a shift by X of 32 or more gives 0 (libpcap's bpf_filter).
 * Classic jumps only go forward, so the result has no loops.
 * What the program does on a match and on a reject (return a verdict,
 * or tail-call the capture's emit step and return the pass verdict) is
 * the caller's choice.
 */
import { C, ClassicInsn, MEMWORDS, cls, miscop, mode, op, rval, size, src } from './cbpf';
import { E, FP, HELPER, I, Insn, R0, R1, R2, R3, R4, R6, R7, R8, pruneUnreachable } from './ebpf';

export class TranslateError extends Error {}

const MEM_BASE = -64;
const LOAD_BUF = -72;
/** Jump offsets are 16-bit. */
const MAX_INSNS = 32_000;

type Label = number | 'match' | 'reject';

const JMP_OP: Record<number, number> = { [C.JEQ]: E.JEQ, [C.JGT]: E.JGT, [C.JGE]: E.JGE, [C.JSET]: E.JSET };
/* The opposite test, for a jump whose true branch falls through. JSET has none. */
const INVERSE: Record<number, number> = { [E.JEQ]: E.JNE, [E.JGT]: E.JLE, [E.JGE]: E.JLT };
const ALU_OP: Record<number, number> = {
  [C.ADD]: E.ADD,
  [C.SUB]: E.SUB,
  [C.MUL]: E.MUL,
  [C.DIV]: E.DIV,
  [C.OR]: E.OR,
  [C.AND]: E.AND,
  [C.LSH]: E.LSH,
  [C.RSH]: E.RSH,
  [C.MOD]: E.MOD,
  [C.XOR]: E.XOR,
};
const LOAD_BYTES: Record<number, number> = { [C.W]: 4, [C.H]: 2, [C.B]: 1 };
const LOAD_SIZE: Record<number, number> = { [C.W]: E.W, [C.H]: E.H, [C.B]: E.B };

/** The tail of a generated program: runs on a match or a reject, ends in exit. */
export interface Outcomes {
  match: Insn[];
  reject: Insn[];
}

/** Returns `match` or `reject` as the program's value (for BPF_PROG_TEST_RUN and tests). */
export function verdictOutcomes(match = 1, reject = 0): Outcomes {
  return { match: [I.mov64Imm(R0, match), I.exit()], reject: [I.mov64Imm(R0, reject), I.exit()] };
}

/**
 * A match tail-calls slot `index` of the prog array `mapFd` (the capture's
 * emit step, which returns the pass verdict itself); a reject, or a tail
 * call that fails, returns `pass`.
 */
export function tailCallOutcomes(mapFd: number, index: number, pass: number): Outcomes {
  return {
    match: [
      I.mov64Reg(R1, R6),
      ...I.ldMapFd(R2, mapFd),
      I.mov64Imm(R3, index),
      I.call(HELPER.tail_call),
      I.mov64Imm(R0, pass),
      I.exit(),
    ],
    reject: [I.mov64Imm(R0, pass), I.exit()],
  };
}

/** True when the classic program rejects every packet (libpcap's `ret #0` alone). */
export function rejectsAll(prog: ClassicInsn[]): boolean {
  return prog.length === 1 && prog[0]!.code === (C.RET | C.K) && prog[0]!.k === 0;
}

export function translateClassic(prog: ClassicInsn[], outcomes: Outcomes): Insn[] {
  if (prog.length === 0) throw new TranslateError('empty classic program');
  const out: Insn[] = [];
  const fixups: { at: number; to: Label }[] = [];
  const start: number[] = [];
  const jump = (i: Insn, to: Label): void => {
    fixups.push({ at: out.length, to });
    out.push(i);
  };
  /* To the next classic instruction needs no jump. */
  const next = (pc: number, delta: number): Label => pc + 1 + delta;

  out.push(I.mov64Reg(R6, R1), I.mov32Imm(R7, 0), I.mov32Imm(R8, 0));
  if (prog.some((p) => cls(p.code) === C.ST || cls(p.code) === C.STX)) {
    for (let w = 0; w < MEMWORDS; w += 2) out.push(I.stImm(E.DW, FP, MEM_BASE + w * 4, 0));
  }

  const loadPacket = (dst: number, bytes: number, sz: number, offset: { k: number; plusX: boolean }): void => {
    out.push(I.mov64Reg(R1, R6));
    if (offset.plusX) out.push(I.mov32Reg(R2, R8), I.alu32Imm(E.ADD, R2, offset.k));
    else out.push(I.mov32Imm(R2, offset.k));
    out.push(I.mov64Reg(R3, FP), I.alu64Imm(E.ADD, R3, LOAD_BUF), I.mov64Imm(R4, bytes), I.call(HELPER.skb_load_bytes));
    jump(I.jmpImm(E.JNE, R0, 0), 'reject');
    out.push(I.ldx(sz, dst, FP, LOAD_BUF));
    if (bytes === 2) out.push(I.toBe(dst, 16));
    if (bytes === 4) out.push(I.toBe(dst, 32));
  };
  const memOff = (k: number): number => {
    if (k >= MEMWORDS) throw new TranslateError(`scratch memory index ${k} out of range`);
    return MEM_BASE + k * 4;
  };

  prog.forEach((p, pc) => {
    start[pc] = out.length;
    const k = p.k >>> 0;
    switch (cls(p.code)) {
      case C.LD:
      case C.LDX: {
        const dst = cls(p.code) === C.LD ? R7 : R8;
        const m = mode(p.code);
        if (m === C.IMM) out.push(I.mov32Imm(dst, k));
        else if (m === C.MEM) out.push(I.ldx(E.W, dst, FP, memOff(k)));
        else if (m === C.LEN)
          out.push(I.ldx(E.W, dst, R6, 0)); // __sk_buff.len
        else if ((m === C.ABS || m === C.IND) && dst === R7) {
          if (k > 0x7fffffff && m === C.ABS)
            throw new TranslateError(`packet offset ${k} (a Linux extension) is not supported`);
          const bytes = LOAD_BYTES[size(p.code)];
          if (!bytes) throw new TranslateError(`bad load size in 0x${p.code.toString(16)}`);
          loadPacket(R7, bytes, LOAD_SIZE[size(p.code)]!, { k, plusX: m === C.IND });
        } else if (m === C.MSH && dst === R8) {
          loadPacket(R8, 1, E.B, { k, plusX: false });
          out.push(I.alu32Imm(E.AND, R8, 0xf), I.alu32Imm(E.LSH, R8, 2));
        } else throw new TranslateError(`unsupported load 0x${p.code.toString(16)}`);
        break;
      }
      case C.ST:
        out.push(I.stx(E.W, FP, memOff(k), R7));
        break;
      case C.STX:
        out.push(I.stx(E.W, FP, memOff(k), R8));
        break;
      case C.ALU: {
        const o = op(p.code);
        if (o === C.NEG) {
          out.push(I.neg32(R7));
          break;
        }
        const eop = ALU_OP[o];
        if (eop === undefined) throw new TranslateError(`unsupported ALU op 0x${p.code.toString(16)}`);
        if (src(p.code) === C.K) {
          if ((o === C.DIV || o === C.MOD) && k === 0) {
            jump(I.ja(), 'reject');
            break;
          }
          if ((o === C.LSH || o === C.RSH) && k >= 32) {
            out.push(I.mov32Imm(R7, 0));
            break;
          }
          out.push(I.alu32Imm(eop, R7, k));
        } else {
          if (o === C.DIV || o === C.MOD) jump(I.jmp32Imm(E.JEQ, R8, 0), 'reject');
          if (o === C.LSH || o === C.RSH) {
            // X >= 32: A = 0, and skip the shift.
            out.push(I.jmp32Imm(E.JLT, R8, 32, 2), I.mov32Imm(R7, 0), I.ja(1));
          }
          out.push(I.alu32Reg(eop, R7, R8));
        }
        break;
      }
      case C.JMP: {
        const o = op(p.code);
        if (o === C.JA) {
          if (pc + 1 + k > prog.length)
            throw new TranslateError('the program loops (protochain), which eBPF cannot prove bounded');
          if (k !== 0) jump(I.ja(), next(pc, k));
          break;
        }
        const eop = JMP_OP[o];
        if (eop === undefined) throw new TranslateError(`unsupported jump 0x${p.code.toString(16)}`);
        const byX = src(p.code) === C.X;
        const test = (e: number): Insn => (byX ? I.jmp32Reg(e, R7, R8) : I.jmp32Imm(e, R7, k));
        if (p.jt === 0 && p.jf !== 0 && INVERSE[eop] !== undefined) {
          jump(test(INVERSE[eop]!), next(pc, p.jf));
        } else {
          if (p.jt !== p.jf) jump(test(eop), next(pc, p.jt));
          if (p.jf !== 0) jump(I.ja(), next(pc, p.jf));
        }
        break;
      }
      case C.RET: {
        const r = rval(p.code);
        if (r === C.K) jump(I.ja(), k !== 0 ? 'match' : 'reject');
        else if (r === C.A) {
          jump(I.jmp32Imm(E.JNE, R7, 0), 'match');
          jump(I.ja(), 'reject');
        } else throw new TranslateError(`unsupported return 0x${p.code.toString(16)}`);
        break;
      }
      case C.MISC:
        if (miscop(p.code) === C.TAX) out.push(I.mov32Reg(R8, R7));
        else if (miscop(p.code) === C.TXA) out.push(I.mov32Reg(R7, R8));
        else throw new TranslateError(`unsupported misc op 0x${p.code.toString(16)}`);
        break;
      default:
        throw new TranslateError(`unsupported instruction 0x${p.code.toString(16)}`);
    }
  });
  // Falling off the end of a classic program cannot happen (libpcap ends in ret); reject if it did.
  start[prog.length] = out.length;
  jump(I.ja(), 'reject');
  const matchAt = out.length;
  out.push(...outcomes.match);
  const rejectAt = out.length;
  out.push(...outcomes.reject);

  for (const f of fixups) {
    const to = f.to === 'match' ? matchAt : f.to === 'reject' ? rejectAt : start[f.to];
    if (to === undefined) throw new TranslateError(`jump out of the program at ${f.at}`);
    const off = to - f.at - 1;
    if (off < 0) throw new TranslateError('backward jump');
    out[f.at] = { ...out[f.at]!, off };
  }
  const pruned = pruneUnreachable(out);
  if (pruned.length > MAX_INSNS) throw new TranslateError(`program too large (${pruned.length} eBPF instructions)`);
  return pruned;
}
