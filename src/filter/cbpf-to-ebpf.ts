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
 *
 * A program compiled for LINUX_SLL2 (a capture of interfaces with different
 * link-layer headers, as tcpdump -i any writes it) runs on the frame the
 * hook really has (`Sll2Frame`): the 20-byte SLL2 header is made on the
 * stack from the skb (protocol, ifindex, the interface's ARPHRD type, packet
 * type, the Ethernet source address) at fp-96, followed by the first 4
 * bytes of the network packet so a load may straddle the two; loads past it
 * read the packet after the frame's own link-layer header, and the length
 * is the SLL2 packet's. Header bytes are read one at a time (the verifier
 * wants aligned stack reads).
 *
 * What the program does on a match and on a reject (return a verdict,
 * or tail-call the capture's emit step and return the pass verdict) is
 * the caller's choice.
 */
import { C, ClassicInsn, MEMWORDS, cls, miscop, mode, op, rval, size, src } from './cbpf';
import { E, FP, HELPER, I, Insn, R0, R1, R2, R3, R4, R6, R7, R8, pruneUnreachable } from './ebpf';

export class TranslateError extends Error {}

const MEM_BASE = -64;
const LOAD_BUF = -72;
/** The synthesised SLL2 header (20 bytes) and the network packet's first 4 bytes. */
const SLL2_HDR = -96;
const SLL2_LEN = 20;
/* struct __sk_buff fields read here (include/uapi/linux/bpf.h). */
const SKB_LEN = 0;
const SKB_PKT_TYPE = 4;
const SKB_PROTOCOL = 16;
const SKB_IFINDEX = 40;
/** sll2_pkttype of a leaving packet. */
const PACKET_OUTGOING = 4;

/**
 * The frame an SLL2 program runs on: the bytes the hook sees start with
 * `l2Len` bytes of link-layer header (14: Ethernet, whose source address
 * goes in the SLL2 header; 0: raw IP) on an interface of ARPHRD type
 * `haType`; leaving packets have the packet type PACKET_OUTGOING, arriving
 * ones skb->pkt_type.
 */
export interface Sll2Frame {
  l2Len: 0 | 14;
  haType: number;
  egress: boolean;
}
/** Jump offsets are 16-bit. */
const MAX_INSNS = 32_000;

/** A classic instruction, the outcomes, or a place inside one instruction's translation (set when reached). */
type Label = number | 'match' | 'reject' | { at: number };

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

/** Whether a classic program may read the SLL2 header (`straddle`: across its end). */
function headerUse(prog: ClassicInsn[]): { header: boolean; straddle: boolean } {
  let header = false;
  let straddle = false;
  for (const p of prog) {
    const c = cls(p.code);
    if (c !== C.LD && c !== C.LDX) continue;
    const m = mode(p.code);
    const k = p.k >>> 0;
    const bytes = m === C.MSH ? 1 : (LOAD_BYTES[size(p.code)] ?? 4);
    if (m === C.IND) header = straddle = true;
    else if ((m === C.ABS || m === C.MSH) && k < SLL2_LEN) {
      header = true;
      if (k + bytes > SLL2_LEN) straddle = true;
    }
  }
  return { header, straddle };
}

export function translateClassic(prog: ClassicInsn[], outcomes: Outcomes, sll2?: Sll2Frame): Insn[] {
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
  const use = sll2 ? headerUse(prog) : { header: false, straddle: false };
  if (sll2 && use.header) {
    const h = sll2.haType & 0xffff;
    out.push(
      I.stImm(E.DW, FP, SLL2_HDR, 0),
      I.stImm(E.DW, FP, SLL2_HDR + 8, 0),
      I.stImm(E.DW, FP, SLL2_HDR + 16, 0),
      I.ldx(E.W, R0, R6, SKB_PROTOCOL), // network order in the low 16 bits
      I.stx(E.H, FP, SLL2_HDR, R0),
      I.ldx(E.W, R0, R6, SKB_IFINDEX),
      I.toBe(R0, 32),
      I.stx(E.W, FP, SLL2_HDR + 4, R0),
      I.stImm(E.H, FP, SLL2_HDR + 8, ((h & 0xff) << 8) | (h >> 8)),
    );
    if (sll2.egress) out.push(I.stImm(E.B, FP, SLL2_HDR + 10, PACKET_OUTGOING));
    else out.push(I.ldx(E.W, R0, R6, SKB_PKT_TYPE), I.stx(E.B, FP, SLL2_HDR + 10, R0));
    const copy = (from: number, to: number, n: number): void => {
      // A failed load leaves zeros (the helper clears its buffer), as the bytes are absent.
      out.push(I.mov64Reg(R1, R6), I.mov32Imm(R2, from), I.mov64Reg(R3, FP), I.alu64Imm(E.ADD, R3, to));
      out.push(I.mov64Imm(R4, n), I.call(HELPER.skb_load_bytes));
    };
    if (sll2.l2Len === 14) {
      out.push(I.stImm(E.B, FP, SLL2_HDR + 11, 6));
      copy(6, SLL2_HDR + 12, 6); // the Ethernet source address
    }
    if (use.straddle) copy(sll2.l2Len, SLL2_HDR + SLL2_LEN, 4);
  }
  /** `n` bytes of the SLL2 header from ptr+off, in network order (one byte at a time: aligned stack reads). */
  const loadHeader = (dst: number, n: number, ptr: number, off: number): void => {
    out.push(I.ldx(E.B, dst, ptr, off));
    for (let i = 1; i < n; i++)
      out.push(I.ldx(E.B, R4, ptr, off + i), I.alu32Imm(E.LSH, dst, 8), I.alu32Reg(E.OR, dst, R4));
  };
  /** Rejects unless the SLL2 packet (header and network packet) has `end` bytes (w2 + end when `plusR2`). */
  const needLength = (end: number, plusR2: boolean): void => {
    out.push(I.ldx(E.W, R3, R6, SKB_LEN), I.alu32Imm(E.ADD, R3, SLL2_LEN - sll2!.l2Len));
    if (plusR2) {
      out.push(I.mov32Reg(R4, R2), I.alu32Imm(E.ADD, R4, end));
      jump(I.jmp32Reg(E.JGT, R4, R3), 'reject');
    } else jump(I.jmp32Imm(E.JLT, R3, end), 'reject');
  };

  /** bpf_skb_load_bytes at offset w2 (set by the caller) into dst, in host order. */
  const loadSkb = (dst: number, bytes: number, sz: number): void => {
    out.push(I.mov64Reg(R1, R6));
    out.push(I.mov64Reg(R3, FP), I.alu64Imm(E.ADD, R3, LOAD_BUF), I.mov64Imm(R4, bytes), I.call(HELPER.skb_load_bytes));
    jump(I.jmpImm(E.JNE, R0, 0), 'reject');
    out.push(I.ldx(sz, dst, FP, LOAD_BUF));
    if (bytes === 2) out.push(I.toBe(dst, 16));
    if (bytes === 4) out.push(I.toBe(dst, 32));
  };
  const loadPacket = (dst: number, bytes: number, sz: number, offset: { k: number; plusX: boolean }): void => {
    const { k, plusX } = offset;
    if (!sll2) {
      if (plusX) out.push(I.mov32Reg(R2, R8), I.alu32Imm(E.ADD, R2, k));
      else out.push(I.mov32Imm(R2, k));
      loadSkb(dst, bytes, sz);
      return;
    }
    const shift = sll2.l2Len - SLL2_LEN; // SLL2 offset -> frame offset, past the header
    if (!plusX) {
      if (k >= SLL2_LEN) {
        out.push(I.mov32Imm(R2, k + shift));
        loadSkb(dst, bytes, sz);
        return;
      }
      if (k + bytes > SLL2_LEN) needLength(k + bytes, false);
      loadHeader(dst, bytes, FP, SLL2_HDR + k);
      return;
    }
    // [x+k]: the header or the packet, decided at run time.
    const header = { at: -1 };
    const done = { at: -1 };
    out.push(I.mov32Reg(R2, R8), I.alu32Imm(E.ADD, R2, k));
    jump(I.jmp32Imm(E.JLT, R2, SLL2_LEN), header);
    out.push(I.alu32Imm(E.ADD, R2, shift));
    loadSkb(dst, bytes, sz);
    jump(I.ja(), done);
    header.at = out.length;
    needLength(bytes, true);
    out.push(I.mov64Reg(R3, FP), I.alu64Reg(E.ADD, R3, R2)); // w2 < 20: within the 24 bytes made
    loadHeader(dst, bytes, R3, SLL2_HDR);
    done.at = out.length;
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
        else if (m === C.LEN) {
          out.push(I.ldx(E.W, dst, R6, SKB_LEN));
          if (sll2) out.push(I.alu32Imm(E.ADD, dst, SLL2_LEN - sll2.l2Len)); // the SLL2 packet's length
        } else if ((m === C.ABS || m === C.IND) && dst === R7) {
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
    const to =
      f.to === 'match' ? matchAt : f.to === 'reject' ? rejectAt : typeof f.to === 'object' ? f.to.at : start[f.to];
    if (to === undefined) throw new TranslateError(`jump out of the program at ${f.at}`);
    const off = to - f.at - 1;
    if (off < 0) throw new TranslateError('backward jump');
    out[f.at] = { ...out[f.at]!, off };
  }
  const pruned = pruneUnreachable(out);
  if (pruned.length > MAX_INSNS) throw new TranslateError(`program too large (${pruned.length} eBPF instructions)`);
  return pruned;
}
