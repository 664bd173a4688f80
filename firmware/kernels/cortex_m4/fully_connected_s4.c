/*
 * FULLY_CONNECTED, int4 weights (Cortex-M4): the int8 kernel's four-outputs-per-pass loop
 * (fully_connected_s8.c) on packed weights. Per group of 4 inputs two words (kws_kernels.h),
 * each holding two rows' nibbles; masked with 0xF0F0F0F0, shifted left by 4 first (the even row)
 * and as they stand (the odd row), their bytes are 16 * w, which SXTB16 splits as it splits int8
 * weights. The sums are 16 times TFLM's and exact (model/deploy/codegen/m4_layout.py,
 * fc_s4_fits, bounds them); a shift right by 4 gives TFLM's sum. Other shapes run the reference
 * loops on TFLite's packing.
 */
#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"
#include "kws_reference_ops.h"

static inline int32_t dot4(int32_t xe, int32_t xo, int32_t w, int32_t acc)
{
    return kws_smlad(xo, kws_sxtb16_ror8(w), kws_smlad(xe, kws_sxtb16(w), acc));
}

/* acc[0..3] += 16 times the four rows' dot products with in[0..n), n % 4 == 0; w packed. */
static void kws_m4_fc4_s4(const int8_t *in, const uint32_t *w, int32_t n, int32_t acc[4])
{
    const uint32_t mask = 0xf0f0f0f0u;
    for (int32_t d = 0; d < n; d += 4, w += 2) {
        const int32_t x = kws_read32(in + d);
        const int32_t xe = kws_sxtb16(x), xo = kws_sxtb16_ror8(x);
        acc[0] = dot4(xe, xo, (int32_t)((w[0] << 4) & mask), acc[0]);
        acc[1] = dot4(xe, xo, (int32_t)(w[0] & mask), acc[1]);
        acc[2] = dot4(xe, xo, (int32_t)((w[1] << 4) & mask), acc[2]);
        acc[3] = dot4(xe, xo, (int32_t)(w[1] & mask), acc[3]);
    }
}

void kws_fully_connected_s4(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    if (!kws_m4_fc_fast(p)) {
        kws_ref_fully_connected_s4(p, input, output);
        return;
    }
    const int32_t n = p->in_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * n;
        int8_t *out = output + b * p->out_depth;
        for (int32_t o = 0; o < p->out_depth; o += 4) {
            int32_t acc[4] = {0, 0, 0, 0};
            kws_m4_fc4_s4(in, (const uint32_t *)p->weights + o / 4 * (n / 2), n, acc);
            for (int32_t k = 0; k < 4; ++k) {
                out[o + k] = kws_fc_output(p, o + k, p->bias[o + k] + (acc[k] >> 4)); /* exact: 16 | acc */
            }
        }
    }
}
