/*
 * Exact Thumb-2 instruction counting and a Cortex-M4 cycle model for the Unicorn backend, in
 * native code.
 *
 * A Python block hook costs ~3.6 M instr/s; this hook keeps Unicorn at tens of M instr/s.
 * Per translation block it caches the instruction count (from the first halfwords: 0b11101,
 * 0b11110 and 0b11111 prefixes mark 32-bit encodings), the block's static cycle cost (see the
 * cost model below), the offset of the first FPU instruction and an execution counter used for
 * the per-function profile.
 *
 * Both counters are advanced by a whole block when the block is entered, the cycles together with
 * the pipeline refill of the previous block's branch if it was taken (this block is not its
 * fall-through). The Python side corrects them when emulation ends inside a block (fault), and asks
 * kc_position() and kc_cycles_before() where inside the current block an MMIO access happens (the
 * MMIO hook below makes Unicorn sync the PC before such accesses).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define NO_FPU_INSN 0xFFFFFFFFu

enum { KC_RUNNING = 0, KC_LIMIT = 1, KC_NOCP = 2 };

typedef struct {
    uint32_t addr;
    uint32_t size;
    uint32_t count;
    uint32_t fpu_offset; /* byte offset of the first FPU instruction, or NO_FPU_INSN */
    uint64_t hits;
    uint32_t used;
    uint32_t cycles;  /* static cycle cost, the last instruction's branch not taken */
    uint32_t branch;  /* BR_* of the last instruction */
    uint32_t first32; /* the first instruction is a 32-bit one (refill cost when branched to) */
} kc_block;

/* Shared with Python through ctypes (emulation/counter.py mirrors this layout). */
typedef struct {
    uint64_t total;       /* instructions counted so far (whole blocks at entry) */
    uint64_t limit;       /* a block entered with total >= limit stops emulation before it runs */
    uint64_t cycles;      /* modelled cycles so far (whole blocks at entry) */
    uint64_t time_limit;  /* the same for the clock: cycles if cycle_time, else instructions */
    uint32_t cycle_time;  /* the clock (virtual time) is modelled cycles, not instructions */
    uint32_t last_branch; /* BR_* of the block entered last */
    uint64_t last_cycles; /* static cycles of the block entered last */
    uint32_t last_addr;   /* the block entered last */
    uint32_t last_size;
    uint32_t last_count;
    uint32_t fpu_enabled; /* CPACR grants CP10/CP11: FPU instructions may run */
    uint32_t stop;        /* KC_* why the hook stopped emulation */
    uint32_t nocp_pc;     /* address of the FPU instruction that would raise NOCP */
    uint32_t access_pc;   /* PC of the instruction making the last MMIO access */
    uint32_t pad;
    kc_block *table;
    uint64_t capacity;    /* power of two */
    uint64_t used;
    uc_hook block_hook;
    uc_hook mem_hooks[2];
} kc_state;

static int is_32bit(uint16_t hw)
{
    return (hw >> 11) >= 0x1D;
}

/* Thumb-2 coprocessor space (VFP/FPU): 111x 11xx xxxx xxxx with coprocessor 10 or 11. */
static int is_fpu(uint16_t hw1, uint16_t hw2)
{
    return (hw1 & 0xEC00) == 0xEC00 && ((hw2 >> 9) & 0x7) == 0x5;
}

/*
 * Cortex-M4 cycle model: the static cost of one Thumb/Thumb-2 instruction, from ARM's Cortex-M4
 * Technical Reference Manual (DDI 0439D) tables 3-1, 3-2 (integer, DSP) and 7-1 (FPU), and its
 * "Load/store timings" notes. Zero wait states (the TRM tables' premise). What is exact and what is
 * a bound is listed in README.md ("Cycle model").
 *
 * A block's static cost is the sum over its instructions with these neighbour effects: a load/store
 * single after a load single whose destination is not in its address pipelines (one cycle less);
 * a load/store whose address register the previous data-processing instruction wrote stalls one
 * cycle (no forwarding path); an IT after a 16-bit instruction folds (zero cycles); an instruction
 * reading the result of the FPU arithmetic instruction before it waits one cycle. The pipeline
 * refill P of a taken branch is dynamic: added when the next block is not the fall-through.
 */

enum { BR_NONE = 0, BR_BRANCH = 1, BR_LOAD_PC = 2 };

/* What the cost rules need to know of one instruction. */
typedef struct {
    uint32_t cycles;
    uint32_t branch;    /* BR_*: the instruction may write the PC */
    uint16_t addr_regs; /* registers forming a load/store address (0: not a load/store) */
    uint16_t alu_dest;  /* registers a data-processing instruction writes */
    uint16_t load_dest; /* destination of a load single that a next load/store may pipeline behind */
    uint32_t fp_dest;   /* single-precision registers an FPU arithmetic instruction writes */
    uint32_t fp_src;    /* single-precision registers an instruction reads early */
    uint8_t ldst_single;
    uint8_t it;
} kc_insn;

#define R(n) ((uint16_t)(1u << ((n) & 15)))
#define DIV_CYCLES 12u   /* SDIV/UDIV: 2-12 by operands (early termination); the bound */
#define FP_DIV_CYCLES 14u

static uint32_t popcount16(uint32_t v)
{
    return (uint32_t)__builtin_popcount(v & 0xFFFFu);
}

static void load_store(kc_insn *in, uint32_t rn, uint32_t rm_mask, uint32_t rt, int load)
{
    in->cycles = 2;
    in->addr_regs = (uint16_t)(R(rn) | rm_mask);
    in->ldst_single = 1;
    if (load) {
        in->load_dest = R(rt);
        if (rt == 15) {
            in->branch = BR_LOAD_PC;
        }
    }
}

static void multiple(kc_insn *in, uint32_t rn, uint32_t list, int load_pc)
{
    in->cycles = 1 + popcount16(list);
    in->addr_regs = R(rn);
    in->alu_dest = 0;
    if (load_pc) {
        in->branch = BR_LOAD_PC;
    }
}

static void decode16_misc(uint16_t hw, kc_insn *in)
{
    if ((hw & 0xFF00) == 0xB000) { /* ADD/SUB SP, #imm */
        in->alu_dest = R(13);
    } else if ((hw & 0xF500) == 0xB100) { /* CBZ/CBNZ */
        in->branch = BR_BRANCH;
    } else if ((hw & 0xFF00) == 0xB200 || (hw & 0xFF00) == 0xBA00) { /* extend, reverse */
        in->alu_dest = R(hw);
    } else if ((hw & 0xFE00) == 0xB400) { /* PUSH */
        multiple(in, 13, (hw & 0xFFu) | ((hw & 0x100u) << 6), 0);
    } else if ((hw & 0xFE00) == 0xBC00) { /* POP */
        multiple(in, 13, (hw & 0xFFu) | ((hw & 0x100u) << 7), hw & 0x100);
    } else if ((hw & 0xFF00) == 0xBF00 && (hw & 0xF)) {
        in->it = 1;
    } else if ((hw & 0xFFE8) == 0xB660) { /* CPS: 1 or 2 */
        in->cycles = 2;
    }
}

static void decode16_data(uint16_t hw, kc_insn *in)
{
    if (hw < 0x2000) { /* shift by immediate, add/subtract */
        in->alu_dest = R(hw);
    } else if (hw < 0x4000) { /* MOV/CMP/ADD/SUB #imm8 */
        if (((hw >> 11) & 3) != 1) {
            in->alu_dest = R(hw >> 8);
        }
    } else if (hw < 0x4400) { /* data processing; TST, CMP, CMN write nothing */
        uint32_t op = (hw >> 6) & 0xF;
        if (op != 8 && op != 10 && op != 11) {
            in->alu_dest = R(hw);
        }
    } else { /* 0x4400-0x47FF: ADD/CMP/MOV high registers, BX/BLX */
        uint32_t op = (hw >> 8) & 3, rd = ((hw >> 4) & 8) | (hw & 7);
        if (op == 3) {
            in->branch = BR_BRANCH;
        } else if (op != 1) {
            in->alu_dest = R(rd);
            if (rd == 15) {
                in->branch = BR_BRANCH;
            }
        }
    }
}

static void decode16(uint16_t hw, kc_insn *in)
{
    static const uint8_t reg_offset_load[8] = {0, 0, 0, 1, 1, 1, 1, 1}; /* STR STRH STRB LDRSB LDR ... */
    if (hw < 0x4800) {
        decode16_data(hw, in);
    } else if (hw < 0x5000) { /* LDR literal */
        load_store(in, 15, 0, (hw >> 8) & 7, 1);
    } else if (hw < 0x6000) {
        load_store(in, (hw >> 3) & 7, R(hw >> 6), hw & 7, reg_offset_load[(hw >> 9) & 7]);
    } else if (hw < 0x9000) { /* STR/LDR, STRB/LDRB, STRH/LDRH #imm */
        load_store(in, (hw >> 3) & 7, 0, hw & 7, hw & 0x800);
    } else if (hw < 0xA000) { /* SP-relative */
        load_store(in, 13, 0, (hw >> 8) & 7, hw & 0x800);
    } else if (hw < 0xB000) { /* ADR, ADD Rd, SP, #imm */
        in->alu_dest = R(hw >> 8);
    } else if (hw < 0xC000) {
        decode16_misc(hw, in);
    } else if (hw < 0xD000) { /* STM/LDM */
        uint32_t rn = (hw >> 8) & 7;
        multiple(in, rn, hw & 0xFF, 0);
    } else if (hw < 0xE800 && (hw & 0xFE00) != 0xDE00) { /* B<cond>, B */
        in->branch = BR_BRANCH;
    }
}

/* 0xE800-0xE9FF: load/store multiple, dual, exclusive, table branch. */
static void decode32_multiple(uint16_t hw1, uint16_t hw2, kc_insn *in)
{
    uint32_t rn = hw1 & 0xF, load = hw1 & 0x10;
    if (!(hw1 & 0x40)) {
        multiple(in, rn, hw2, load && (hw2 & 0x8000));
    } else if (hw1 & 0x120) { /* LDRD/STRD: the two words pipeline, nothing else does */
        in->cycles = 3;
        in->addr_regs = R(rn);
    } else if ((hw1 & 0xFFF0) == 0xE8D0 && (hw2 & 0xE0) == 0) { /* TBB/TBH: load, add, refill */
        in->cycles = 3;
        in->addr_regs = (uint16_t)(R(rn) | R(hw2));
        in->branch = BR_LOAD_PC;
    } else { /* LDREX/STREX pipeline as LDR (TRM 3.3.2) */
        load_store(in, rn, 0, hw2 >> 12, load);
    }
}

/* Single-precision register numbers of the FPU encodings: Sd = Vd:D, Sn = Vn:N, Sm = Vm:M. */
static uint32_t fp_sd(uint16_t hw1, uint16_t hw2)
{
    return ((hw2 >> 11) & 0x1E) | ((hw1 >> 6) & 1);
}

static uint32_t fp_sn(uint16_t hw1, uint16_t hw2)
{
    return ((hw1 & 0xFu) << 1) | ((hw2 >> 7) & 1);
}

static uint32_t fp_sm(uint16_t hw2)
{
    return ((hw2 & 0xFu) << 1) | ((hw2 >> 5) & 1);
}

/* Bits first..first+n-1 of the 32 single-precision registers. */
static uint32_t fp_range(uint32_t first, uint32_t n)
{
    uint64_t bits = n >= 32 ? 0xFFFFFFFFull : ((1ull << n) - 1);
    return (uint32_t)(bits << first);
}

/* FPU loads, stores and 64-bit transfers (0xEC00-0xEDFF). */
static void decode_fpu_memory(uint16_t hw1, uint16_t hw2, kc_insn *in)
{
    uint32_t doubles = hw2 & 0x100, store = !(hw1 & 0x10);
    uint32_t first = doubles ? 2 * (((hw1 >> 2) & 0x10) | (hw2 >> 12)) : fp_sd(hw1, hw2);
    if ((hw1 & 0xFFE0) == 0xEC40) { /* VMOV two core registers <-> double / two singles */
        in->cycles = 2;
        uint32_t sm = doubles ? 2 * (((hw2 >> 1) & 0x10) | (hw2 & 0xF)) : fp_sm(hw2);
        in->fp_src = (hw1 & 0x10) ? fp_range(sm, 2) : 0; /* to core registers: reads them */
        return;
    }
    in->addr_regs = R(hw1);
    if ((hw1 & 0xFF20) == 0xED00) { /* VLDR/VSTR */
        in->cycles = doubles ? 3 : 2;
        in->fp_src = store ? fp_range(first, doubles ? 2 : 1) : 0;
    } else { /* VLDM/VSTM/VPUSH/VPOP: imm8 counts words, so 1+N (.32) and 1+2N (.64) */
        in->cycles = 1 + (hw2 & 0xFFu);
        in->fp_src = store ? fp_range(first, hw2 & 0xFFu) : 0;
    }
}

/* FPU data processing (0xEE00-0xEFFF, bit 4 of hw2 clear), TRM table 7-1. Arithmetic results
   (not VMOV/VABS/VNEG) consumed by the next instruction cost that instruction one more cycle;
   a multiply-accumulate reads its addend late, so only its multiplicands count as sources. */
static void decode_fpu_data(uint16_t hw1, uint16_t hw2, kc_insn *in)
{
    uint32_t opc1 = (hw1 >> 4) & 0xB, opc2 = hw1 & 0xF, sd = fp_sd(hw1, hw2);
    uint32_t sources = fp_range(fp_sn(hw1, hw2), 1) | fp_range(fp_sm(hw2), 1);
    in->fp_dest = fp_range(sd, 1);
    in->fp_src = sources;
    if (opc1 == 0x0 || opc1 == 0x1 || opc1 == 0x9 || opc1 == 0xA) { /* VMLA/VMLS/VNMLA/VNMLS, VFMA... */
        in->cycles = 3;
    } else if (opc1 == 0x8) { /* VDIV */
        in->cycles = FP_DIV_CYCLES;
    } else if (opc1 == 0xB) { /* one-operand forms: Sm only */
        in->fp_src = fp_range(fp_sm(hw2), 1);
        if (!(hw2 & 0x40)) { /* VMOV immediate */
            in->fp_src = in->fp_dest = 0;
        } else if (opc2 == 1 && (hw2 & 0x80)) { /* VSQRT */
            in->cycles = FP_DIV_CYCLES;
        } else if (opc2 <= 1) { /* VMOV, VABS, VNEG: not arithmetic */
            in->fp_dest = 0;
        } else if (opc2 == 4 || opc2 == 5) { /* VCMP: reads Sd too, writes flags */
            in->fp_src |= fp_range(sd, 1);
            in->fp_dest = 0;
        }
    }
}

/* Coprocessor space with coprocessor 10/11: the FPU (TRM table 7-1). */
static void decode_fpu(uint16_t hw1, uint16_t hw2, kc_insn *in)
{
    if ((hw1 & 0xFE00) == 0xEC00) {
        decode_fpu_memory(hw1, hw2, in);
    } else if (!(hw2 & 0x10)) {
        decode_fpu_data(hw1, hw2, in);
    } else if ((hw1 & 0xFFF0) == 0xEE10) { /* VMOV Rt, Sn */
        in->fp_src = fp_range(fp_sn(hw1, hw2), 1);
    }
}

/* 0xF800-0xF9FF: load/store single (bit 4: load; Rt=PC: load to PC, or a PLD hint). */
static void decode32_single(uint16_t hw1, uint16_t hw2, kc_insn *in)
{
    uint32_t rn = hw1 & 0xF, rm = 0;
    if (!(hw1 & 0x80) && (hw2 & 0x0FC0) == 0 && rn != 15) {
        rm = R(hw2);
    }
    load_store(in, rn, rm, hw2 >> 12, hw1 & 0x10);
    if (in->branch && (hw1 & 0x60) != 0x40) { /* PLD/PLI: Rt=15 with a byte or halfword size */
        in->branch = BR_NONE;
        in->load_dest = 0;
    }
}

static void decode32(uint16_t hw1, uint16_t hw2, kc_insn *in)
{
    if ((hw1 & 0xEC00) == 0xEC00 && ((hw2 >> 9) & 7) == 5) {
        decode_fpu(hw1, hw2, in);
    } else if (hw1 < 0xEA00) {
        decode32_multiple(hw1, hw2, in);
    } else if (hw1 < 0xEC00) { /* data processing, shifted register; Rd=PC is TST/TEQ/CMP/CMN */
        in->alu_dest = (uint16_t)(R(hw2 >> 8) & 0x7FFF);
    } else if (hw1 < 0xF000) { /* other coprocessors */
    } else if (hw1 < 0xF800 && !(hw2 & 0x8000)) { /* data processing, immediate */
        in->alu_dest = (uint16_t)(R(hw2 >> 8) & 0x7FFF);
    } else if (hw1 < 0xF800) { /* branches and miscellaneous control */
        if ((hw2 & 0x5000) != 0 || (hw1 & 0x0380) != 0x0380) {
            in->branch = BR_BRANCH; /* B, BL, B<cond> */
        } else if ((hw1 & 0xFFF0) == 0xF3B0 && (hw2 & 0xF0) == 0x60) {
            in->cycles = 4; /* ISB: 1 + B, B at least a pipeline refill */
        } else if ((hw1 & 0xFFE0) == 0xF380 || (hw1 & 0xFFE0) == 0xF3E0) {
            in->cycles = 2; /* MSR, MRS: 1 or 2 */
        }
    } else if (hw1 < 0xFA00) {
        decode32_single(hw1, hw2, in);
    } else if (hw1 < 0xFB80) { /* register data processing, multiply, DSP: one cycle */
        in->alu_dest = R(hw2 >> 8);
    } else if ((hw2 & 0xF0) == 0xF0 && ((hw1 & 0xFFD0) == 0xFB90)) { /* SDIV, UDIV */
        in->cycles = DIV_CYCLES;
        in->alu_dest = R(hw2 >> 8);
    } else if (hw1 < 0xFC00) { /* long multiplies */
        in->alu_dest = (uint16_t)(R(hw2 >> 8) | R(hw2 >> 12));
    }
}

/* Decodes the instruction at buf; returns its length in bytes. */
static uint32_t decode_insn(const uint8_t *buf, kc_insn *in)
{
    uint16_t hw1 = (uint16_t)(buf[0] | buf[1] << 8);
    memset(in, 0, sizeof *in);
    in->cycles = 1;
    if (is_32bit(hw1)) {
        decode32(hw1, (uint16_t)(buf[2] | buf[3] << 8), in);
        return 4;
    }
    decode16(hw1, in);
    return 2;
}

/* Cycles of the instructions in buf[0, end) of a block, with the neighbour effects above;
   *count gets their number and *last the last instruction. */
static uint64_t block_cost(const uint8_t *buf, uint32_t end, uint32_t *count, kc_insn *last)
{
    uint64_t cycles = 0;
    kc_insn prev = {0}, cur;
    uint32_t prev_len = 0;
    *count = 0;
    for (uint32_t off = 0; off < end; (*count)++) {
        uint32_t len = decode_insn(buf + off, &cur);
        uint32_t c = cur.cycles;
        if (cur.fp_src & prev.fp_dest) {
            c += 1; /* waits for the previous FPU arithmetic result */
        }
        if (cur.it) {
            c = prev_len == 2 ? 0 : 1; /* folds onto a preceding 16-bit instruction */
        } else if (cur.addr_regs) {
            if (cur.ldst_single && prev.load_dest && !(cur.addr_regs & prev.load_dest)) {
                c -= 1; /* pipelined behind the previous load */
            } else if (cur.addr_regs & prev.alu_dest) {
                c += 1; /* address from the previous data-processing result */
            }
        }
        cycles += c;
        prev = cur;
        prev_len = len;
        off += len;
    }
    *last = prev;
    return cycles;
}

static kc_block *lookup(kc_state *st, uint32_t addr, uint32_t size)
{
    uint64_t mask = st->capacity - 1;
    uint64_t i = ((uint64_t)addr * 0x9E3779B1u >> 4) & mask;
    for (;;) {
        kc_block *b = &st->table[i];
        if (!b->used || (b->addr == addr && b->size == size)) {
            return b;
        }
        i = (i + 1) & mask;
    }
}

static void grow(kc_state *st)
{
    kc_block *old = st->table;
    uint64_t old_capacity = st->capacity;
    st->capacity *= 2;
    st->table = calloc(st->capacity, sizeof(kc_block));
    for (uint64_t i = 0; i < old_capacity; i++) {
        if (old[i].used) {
            *lookup(st, old[i].addr, old[i].size) = old[i];
        }
    }
    free(old);
}

/* The block's bytes, padded so that a 32-bit decode at its end stays inside the buffer. */
static uint8_t *read_block(uc_engine *uc, uint32_t addr, uint32_t size, uint8_t *stack_buf, size_t stack_size)
{
    uint8_t *buf = size + 4 <= stack_size ? stack_buf : malloc(size + 4);
    memset(buf, 0, size + 4);
    uc_mem_read(uc, addr, buf, size);
    return buf;
}

static void decode(uc_engine *uc, kc_block *b, uint32_t addr, uint32_t size)
{
    uint8_t stack_buf[512];
    uint8_t *buf = read_block(uc, addr, size, stack_buf, sizeof stack_buf);
    kc_insn last;
    b->cycles = (uint32_t)block_cost(buf, size, &b->count, &last);
    b->branch = last.branch;
    b->first32 = (uint32_t)is_32bit((uint16_t)(buf[0] | buf[1] << 8));
    b->fpu_offset = NO_FPU_INSN;
    for (uint32_t off = 0; off < size;) {
        uint16_t hw1 = (uint16_t)(buf[off] | buf[off + 1] << 8);
        uint32_t len = is_32bit(hw1) ? 4 : 2;
        if (len == 4 && is_fpu(hw1, (uint16_t)(buf[off + 2] | buf[off + 3] << 8))) {
            b->fpu_offset = off;
            break;
        }
        off += len;
    }
    if (buf != stack_buf) {
        free(buf);
    }
}

/* Pipeline refill P (TRM: 1 to 3) when the block entered last branched to b: 3 after a load to
   the PC (TRM 3.3.2); else 2, plus 1 for a 32-bit target on an odd halfword (two fetches). */
static uint32_t refill(const kc_state *st, const kc_block *b)
{
    if (st->last_branch == BR_NONE || b->addr == st->last_addr + st->last_size) {
        return 0;
    }
    if (st->last_branch == BR_LOAD_PC) {
        return 3;
    }
    return 2 + ((b->addr & 2) && b->first32);
}

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    kc_state *st = user_data;
    uint32_t addr = (uint32_t)address;
    kc_block *b = lookup(st, addr, size);
    if (!b->used) {
        if (2 * (st->used + 1) > st->capacity) {
            grow(st);
            b = lookup(st, addr, size);
        }
        b->used = 1;
        b->addr = addr;
        b->size = size;
        st->used++;
        decode(uc, b, addr, size);
    }
    /* Unicorn checks for a stop request right after this hook, before the block's first
       instruction: a block stopped here does not run and is not counted. */
    if (st->total >= st->limit || (st->cycle_time ? st->cycles : st->total) >= st->time_limit) {
        st->stop = KC_LIMIT;
        uc_emu_stop(uc);
        return;
    }
    if (b->fpu_offset != NO_FPU_INSN && !st->fpu_enabled) {
        st->stop = KC_NOCP;
        st->nocp_pc = addr + b->fpu_offset;
        uc_emu_stop(uc);
        return;
    }
    b->hits++;
    st->total += b->count;
    st->cycles += refill(st, b) + b->cycles;
    st->last_addr = addr;
    st->last_size = size;
    st->last_count = b->count;
    st->last_cycles = b->cycles;
    st->last_branch = b->branch;
}

static void on_mmio(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user_data)
{
    (void)type;
    (void)address;
    (void)size;
    (void)value;
    kc_state *st = user_data;
    uint32_t pc;
    uc_reg_read(uc, UC_ARM_REG_PC, &pc);
    st->access_pc = pc;
}

/* Instructions of the last entered block that lie before pc (pc inside that block). */
uint32_t kc_position(uc_engine *uc, kc_state *st, uint32_t pc)
{
    uint8_t buf[4];
    uint32_t n = 0;
    for (uint32_t a = st->last_addr; a < pc && a < st->last_addr + st->last_size; n++) {
        uc_mem_read(uc, a, buf, 2);
        a += is_32bit((uint16_t)(buf[0] | buf[1] << 8)) ? 4 : 2;
    }
    return n;
}

/* Modelled cycles of the instructions of the last entered block that lie before pc. */
uint64_t kc_cycles_before(uc_engine *uc, kc_state *st, uint32_t pc)
{
    uint8_t stack_buf[512];
    uint32_t end = pc - st->last_addr, count;
    kc_insn last;
    if (pc <= st->last_addr || end > st->last_size) {
        return 0;
    }
    uint8_t *buf = read_block(uc, st->last_addr, end, stack_buf, sizeof stack_buf);
    uint64_t cycles = block_cost(buf, end, &count, &last);
    if (buf != stack_buf) {
        free(buf);
    }
    return cycles;
}

kc_state *kc_attach(uc_engine *uc, uint64_t mmio_begin, uint64_t mmio_end, uint64_t ppb_begin, uint64_t ppb_end)
{
    kc_state *st = calloc(1, sizeof(kc_state));
    st->limit = UINT64_MAX;
    st->time_limit = UINT64_MAX;
    st->capacity = 4096;
    st->table = calloc(st->capacity, sizeof(kc_block));
    if (uc_hook_add(uc, &st->block_hook, UC_HOOK_BLOCK, (void *)on_block, st, 1, 0) != UC_ERR_OK ||
        uc_hook_add(uc, &st->mem_hooks[0], UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)on_mmio, st, mmio_begin,
                    mmio_end) != UC_ERR_OK ||
        uc_hook_add(uc, &st->mem_hooks[1], UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)on_mmio, st, ppb_begin,
                    ppb_end) != UC_ERR_OK) {
        free(st->table);
        free(st);
        return NULL;
    }
    return st;
}

/* Copies up to max (addr, size, count, hits, cycles) rows of executed blocks; returns the number of rows. */
uint64_t kc_blocks(kc_state *st, uint64_t *out, uint64_t max)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < st->capacity && n < max; i++) {
        kc_block *b = &st->table[i];
        if (b->used && b->hits) {
            out[5 * n] = b->addr;
            out[5 * n + 1] = b->size;
            out[5 * n + 2] = b->count;
            out[5 * n + 3] = b->hits;
            out[5 * n + 4] = b->cycles;
            n++;
        }
    }
    return n;
}

void kc_detach(uc_engine *uc, kc_state *st)
{
    uc_hook_del(uc, st->block_hook);
    uc_hook_del(uc, st->mem_hooks[0]);
    uc_hook_del(uc, st->mem_hooks[1]);
    free(st->table);
    free(st);
}
