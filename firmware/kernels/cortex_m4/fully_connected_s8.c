/*
 * FULLY_CONNECTED int8 (Cortex-M4): four outputs per pass share each input word. The generator
 * interleaves the weights in consumption order (kws_kernels.h), so the four rows' words for
 * one group of 4 inputs are one 16-byte load; SXTB16 / SXTB16 ROR #8 split input and weight
 * words into halfword pairs, and SMLAD does two MACs. The input offset is folded into the bias
 * at generation time (bias + input_offset * sum(w[o])), so the sum is the same integer as
 * TFLM's. Other shapes run the reference loops on reference-layout data.
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

void kws_fully_connected_s8(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    if (!kws_m4_fc_fast(p)) {
        kws_ref_fully_connected_s8(p, input, output);
        return;
    }
    const int32_t n = p->in_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * n;
        int8_t *out = output + b * p->out_depth;
        for (int32_t o = 0; o < p->out_depth; o += 4) {
            int32_t acc[4] = {p->bias[o], p->bias[o + 1], p->bias[o + 2], p->bias[o + 3]};
            if (n > 0) {
                kws_m4_fc4(in, (const int32_t *)p->weights + o / 4 * n, n, acc);
            }
            for (int32_t k = 0; k < 4; ++k) {
                out[o + k] = kws_fc_output(p, o + k, acc[k]);
            }
        }
    }
}
