/*
 * Exact Thumb-2 instruction counting for the Unicorn backend, in native code.
 *
 * A Python block hook costs ~3.6 M instr/s; this hook keeps Unicorn at tens of M instr/s.
 * Per translation block it caches the instruction count (from the first halfwords: 0b11101,
 * 0b11110 and 0b11111 prefixes mark 32-bit encodings), the offset of the first FPU instruction
 * and an execution counter used for the per-function profile.
 *
 * The counter is advanced by a whole block when the block is entered. The Python side corrects it
 * when emulation ends inside a block (fault), and asks kc_position() where inside the current block
 * an MMIO access happens (the MMIO hook below makes Unicorn sync the PC before such accesses).
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
    uint32_t pad;
} kc_block;

/* Shared with Python through ctypes (emulation/counter.py mirrors this layout). */
typedef struct {
    uint64_t total;       /* instructions counted so far (whole blocks at entry) */
    uint64_t limit;       /* a block entered with total >= limit stops emulation before it runs */
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

static void decode(uc_engine *uc, kc_block *b, uint32_t addr, uint32_t size)
{
    uint8_t stack_buf[512];
    uint8_t *buf = size <= sizeof stack_buf ? stack_buf : malloc(size + 2);
    memset(buf, 0, size <= sizeof stack_buf ? sizeof stack_buf : size + 2);
    uc_mem_read(uc, addr, buf, size);
    b->count = 0;
    b->fpu_offset = NO_FPU_INSN;
    for (uint32_t off = 0; off < size;) {
        uint16_t hw1 = (uint16_t)(buf[off] | buf[off + 1] << 8);
        uint32_t len = is_32bit(hw1) ? 4 : 2;
        if (len == 4 && off + 2 < size) {
            uint16_t hw2 = (uint16_t)(buf[off + 2] | buf[off + 3] << 8);
            if (b->fpu_offset == NO_FPU_INSN && is_fpu(hw1, hw2)) {
                b->fpu_offset = off;
            }
        }
        b->count++;
        off += len;
    }
    if (buf != stack_buf) {
        free(buf);
    }
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
    if (st->total >= st->limit) {
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
    st->last_addr = addr;
    st->last_size = size;
    st->last_count = b->count;
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

kc_state *kc_attach(uc_engine *uc, uint64_t mmio_begin, uint64_t mmio_end, uint64_t ppb_begin, uint64_t ppb_end)
{
    kc_state *st = calloc(1, sizeof(kc_state));
    st->limit = UINT64_MAX;
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

/* Copies up to max (addr, size, count, hits) rows of executed blocks; returns the number of rows. */
uint64_t kc_blocks(kc_state *st, uint64_t *out, uint64_t max)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < st->capacity && n < max; i++) {
        kc_block *b = &st->table[i];
        if (b->used && b->hits) {
            out[4 * n] = b->addr;
            out[4 * n + 1] = b->size;
            out[4 * n + 2] = b->count;
            out[4 * n + 3] = b->hits;
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
