/*
 * FULLY_CONNECTED int8 (Cortex-M4): four outputs per pass share each input word. The generator
 * interleaves the weights in consumption order (kws_kernels.h), so the four rows' words for
 * one group of 4 inputs are one 16-byte load; SXTB16 / SXTB16 ROR #8 split input and weight
 * words into halfword pairs, and SMLAD does two MACs. The input offset is folded into the bias
 * at generation time (bias + input_offset * sum(w[o])), so the sum is the same integer as
 * TFLM's. int4 weights (two per byte) are unpacked in registers on the way (kws_m4_fc4_s4).
 * Other shapes run the reference loops on reference-layout data.
 */
#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"
#include "kws_reference_ops.h"

#if defined(KWS_M4_ASM)
#define KWS_ASM_ARG __attribute__((unused)) /* read by the assembly, per the procedure call standard */

/* kws_m4_fc4 in assembly (GCC spills and does not fold the rotates): per 4 inputs one LDR of
   inputs, one LDM of the 4 rows' weight words, 10 SXTB16s, 8 SMLADs. */
__attribute__((naked)) static void kws_m4_fc4(KWS_ASM_ARG const int8_t *in, KWS_ASM_ARG const int32_t *w,
                                             KWS_ASM_ARG int32_t n, KWS_ASM_ARG int32_t acc[4])
{
    __asm__ volatile(
        "    push    {r3-r11, lr}\n" /* [sp] = acc */
        "    ldm     r3, {r4-r7}\n"
        "    add     r2, r0, r2\n"
        "1:  ldr     r8, [r0], #4\n"
        "    sxtb16  r9, r8\n"
        "    sxtb16  r8, r8, ror #8\n"
        "    ldm     r1!, {r10-r12, lr}\n"
        "    sxtb16  r3, r10\n"
        "    sxtb16  r10, r10, ror #8\n"
        "    smlad   r4, r9, r3, r4\n"
        "    smlad   r4, r8, r10, r4\n"
        "    sxtb16  r3, r11\n"
        "    sxtb16  r11, r11, ror #8\n"
        "    smlad   r5, r9, r3, r5\n"
        "    smlad   r5, r8, r11, r5\n"
        "    sxtb16  r3, r12\n"
        "    sxtb16  r12, r12, ror #8\n"
        "    smlad   r6, r9, r3, r6\n"
        "    smlad   r6, r8, r12, r6\n"
        "    sxtb16  r3, lr\n"
        "    sxtb16  lr, lr, ror #8\n"
        "    smlad   r7, r9, r3, r7\n"
        "    smlad   r7, r8, lr, r7\n"
        "    cmp     r0, r2\n"
        "    bne     1b\n"
        "    ldr     r3, [sp]\n"
        "    stm     r3, {r4-r7}\n"
        "    pop     {r3-r11, pc}\n");
}
#else
static inline int32_t dot4(int32_t xe, int32_t xo, int32_t w, int32_t acc)
{
    return kws_smlad(xo, kws_sxtb16_ror8(w), kws_smlad(xe, kws_sxtb16(w), acc));
}

/* acc[0..3] += the four rows' dot products with in[0..n), n % 4 == 0 and n > 0; w interleaved. */
static void kws_m4_fc4(const int8_t *in, const int32_t *w, int32_t n, int32_t acc[4])
{
    for (int32_t d = 0; d < n; d += 4, w += 4) {
        const int32_t x = kws_read32(in + d);
        const int32_t xe = kws_sxtb16(x), xo = kws_sxtb16_ror8(x);
        acc[0] = dot4(xe, xo, w[0], acc[0]);
        acc[1] = dot4(xe, xo, w[1], acc[1]);
        acc[2] = dot4(xe, xo, w[2], acc[2]);
        acc[3] = dot4(xe, xo, w[3], acc[3]);
    }
}
#endif

/*
 * acc[0..3] += 16 times the four rows' dot products with in[0..n), int4 weights: per 4 inputs two
 * words (kws_kernels.h), each two rows' nibbles; masked with 0xF0F0F0F0, as they stand (the odd
 * row) and shifted left by 4 (the even row), their bytes are 16 * w, which SXTB16 splits as it
 * splits int8 weights. The caller divides the exact sum by 16 (model/deploy/codegen/m4_layout.py,
 * fc_s4_fits, bounds it).
 */
static void kws_m4_fc4_s4(const int8_t *in, const uint32_t *w, int32_t n, int32_t acc[4])
{
    const uint32_t mask = 0xf0f0f0f0u;
    for (int32_t d = 0; d < n; d += 4, w += 2) {
        const int32_t x = kws_read32(in + d);
        const int32_t xe = kws_sxtb16(x), xo = kws_sxtb16_ror8(x);
        const int32_t r0 = (int32_t)((w[0] << 4) & mask), r1 = (int32_t)(w[0] & mask);
        const int32_t r2 = (int32_t)((w[1] << 4) & mask), r3 = (int32_t)(w[1] & mask);
        acc[0] = kws_smlad(xo, kws_sxtb16_ror8(r0), kws_smlad(xe, kws_sxtb16(r0), acc[0]));
        acc[1] = kws_smlad(xo, kws_sxtb16_ror8(r1), kws_smlad(xe, kws_sxtb16(r1), acc[1]));
        acc[2] = kws_smlad(xo, kws_sxtb16_ror8(r2), kws_smlad(xe, kws_sxtb16(r2), acc[2]));
        acc[3] = kws_smlad(xo, kws_sxtb16_ror8(r3), kws_smlad(xe, kws_sxtb16(r3), acc[3]));
    }
}

/* The four sums of outputs o..o+3 from the bias (input offset folded in) and the weights. */
static void kws_m4_fc_block(const kws_fc_s8_params *p, const int8_t *in, int32_t o, int32_t acc[4])
{
    const int32_t n = p->in_depth;
    for (int32_t k = 0; k < 4; ++k) {
        acc[k] = p->weights_int4 ? 0 : p->bias[o + k];
    }
    if (n == 0) {
        return;
    }
    if (!p->weights_int4) {
        kws_m4_fc4(in, (const int32_t *)p->weights + o / 4 * n, n, acc);
        return;
    }
    kws_m4_fc4_s4(in, (const uint32_t *)p->weights + o / 4 * (n / 2), n, acc);
    for (int32_t k = 0; k < 4; ++k) {
        acc[k] = p->bias[o + k] + (acc[k] >> 4); /* exact: every term is a multiple of 16 */
    }
}

static inline int8_t output_value(const kws_fc_s8_params *p, int32_t o, int32_t acc)
{
    const int32_t q = p->per_channel ? o : 0;
    return (int8_t)kws_clamp(kws_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset, p->act_min,
                             p->act_max);
}

void kws_fully_connected_s8(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    if (!kws_m4_fc_fast(p)) {
        kws_ref_fully_connected_s8(p, input, output);
        return;
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_depth;
        int8_t *out = output + b * p->out_depth;
        for (int32_t o = 0; o < p->out_depth; o += 4) {
            int32_t acc[4];
            kws_m4_fc_block(p, in, o, acc);
            for (int32_t k = 0; k < 4; ++k) {
                out[o + k] = output_value(p, o + k, acc[k]);
            }
        }
    }
}
