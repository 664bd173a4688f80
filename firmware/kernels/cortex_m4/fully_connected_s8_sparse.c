/*
 * FULLY_CONNECTED, int8 weights stored sparse (Cortex-M4): per output row, each bitmap word is
 * walked set bit by set bit: CLZ gives the offset of the next input with a nonzero weight, an
 * EOR clears its bit, and only nonzero weights are loaded and multiplied, two at a time by SMLAD
 * (PKHBT pairs the two inputs and the two weights). The input offset is folded into the bias at
 * generation time, so the sum is the same integer as TFLM's.
 */
#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"
#include "kws_reference_ops.h"

/* One row's walk: the nonzero weights at w (advanced past them) and the sum. */
typedef struct {
    const int8_t *w;
    int32_t acc;
} kws_sparse_row;

#if defined(KWS_M4_ASM)
#define KWS_ASM_ARG __attribute__((unused)) /* read by the assembly, per the procedure call standard */

/* kws_m4_sparse_row in assembly: per pair of nonzero weights 2 CLZ, 2 LSR, 2 EORS (the second's
   flags end the word), 4 LDRSB, 2 PKHBT, 1 SMLAD; an odd one out takes MLA. */
__attribute__((naked)) static void kws_m4_sparse_row(KWS_ASM_ARG const int8_t *in, KWS_ASM_ARG const uint32_t *bitmap,
                                                    KWS_ASM_ARG int32_t words, KWS_ASM_ARG kws_sparse_row *row)
{
    __asm__ volatile(
        "    push    {r4-r11, lr}\n"
        "    ldrd    r11, r10, [r3]\n" /* w, acc */
        "    add     r2, r1, r2, lsl #2\n"
        "    mov     r12, #0x80000000\n"
        "    cmp     r1, r2\n"
        "    beq     9f\n"
        "1:  ldr     r4, [r1], #4\n"
        "    cbz     r4, 4f\n"
        "2:  clz     r5, r4\n"
        "    lsr     r6, r12, r5\n"
        "    ldrsb   r7, [r0, r5]\n"
        "    eors    r4, r4, r6\n"
        "    beq     3f\n"
        "    clz     r5, r4\n"
        "    lsr     r6, r12, r5\n"
        "    ldrsb   r8, [r0, r5]\n"
        "    ldrsb   r9, [r11], #1\n"
        "    ldrsb   lr, [r11], #1\n"
        "    eors    r4, r4, r6\n"
        "    pkhbt   r7, r7, r8, lsl #16\n"
        "    pkhbt   r9, r9, lr, lsl #16\n"
        "    smlad   r10, r7, r9, r10\n"
        "    bne     2b\n"
        "4:  adds    r0, r0, #32\n"
        "    cmp     r1, r2\n"
        "    bne     1b\n"
        "9:  strd    r11, r10, [r3]\n"
        "    pop     {r4-r11, pc}\n"
        "3:  ldrsb   r9, [r11], #1\n"
        "    mla     r10, r7, r9, r10\n"
        "    b       4b\n");
}
#else
/* row->acc += the dot product of one row's nonzero weights (row->w, advanced past them) with in. */
static void kws_m4_sparse_row(const int8_t *in, const uint32_t *bitmap, int32_t words, kws_sparse_row *row)
{
    const int8_t *w = row->w;
    int32_t acc = row->acc;
    for (int32_t j = 0; j < words; ++j, in += 32) {
        uint32_t bits = bitmap[j];
        while (bits != 0) {
            const uint32_t k0 = (uint32_t)__builtin_clz(bits); /* CLZ */
            bits ^= 0x80000000u >> k0;
            const int32_t x0 = in[k0];
            if (bits == 0) {
                acc += (int32_t)*w++ * x0;
                break;
            }
            const uint32_t k1 = (uint32_t)__builtin_clz(bits);
            bits ^= 0x80000000u >> k1;
            const uint32_t x = ((uint32_t)x0 & 0xffffu) | ((uint32_t)in[k1] << 16);          /* PKHBT */
            const uint32_t wp = ((uint32_t)w[0] & 0xffffu) | ((uint32_t)w[1] << 16); /* PKHBT */
            acc = kws_smlad((int32_t)x, (int32_t)wp, acc);
            w += 2;
        }
    }
    row->w = w;
    row->acc = acc;
}
#endif

void kws_fully_connected_s8_sparse(const kws_fc_sparse_params *p, const int8_t *input, int8_t *output)
{
    const kws_fc_s8_params *fc = &p->fc;
    const int32_t words = (fc->in_depth + 31) / 32;
    for (int32_t b = 0; b < fc->batches; ++b) {
        const int8_t *in = input + b * fc->in_depth;
        kws_sparse_row row = {(const int8_t *)fc->weights, 0};
        for (int32_t o = 0; o < fc->out_depth; ++o) {
            row.acc = fc->bias[o];
            kws_m4_sparse_row(in, p->bitmap + o * words, words, &row);
            output[b * fc->out_depth + o] = kws_fc_output(fc, o, row.acc);
        }
    }
}
