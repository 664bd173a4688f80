/*
 * requantize_m4.h - TFLite's double-rounding requantization in three instructions, for the
 * case model/deploy/codegen/m4_layout.py proves it exact (``fast_requant``): output zero point -128, output
 * range the whole int8 range (what a fused ReLU gives), shift <= 0, |acc| < 2^30, no overflow.
 *
 * Reference: out = clamp(RDBPOT(SRDHM(acc, M), e) - 128, -128, 127) with e = -shift.
 * - SRDHM(acc, M) = floor((acc * M + 2^30) / 2^31) for every acc and M >= 0 (gemmlowp's nudge
 *   and truncating division round ties up on both signs), = floor((2acc * M + 2^31) / 2^32):
 *   SMMLAR's rounding of 2acc * M. The kernels accumulate 2acc directly (doubled weights/bias).
 * - RDBPOT(t, e) rounds ties away from zero: floor((t + 2^(e-1) - [t < 0]) / 2^e). For t < 0
 *   both that and floor((t + 2^(e-1)) / 2^e) are <= 0, which the clamp maps to -128 anyway, so
 *   the [t < 0] term never changes the output and is dropped.
 * - The nested floors fold: k = 2^(e-1) - 128 * 2^e (e > 0; -128 for e = 0) is added by SMMLAR
 *   itself, and floor(x / 2^e) is an arithmetic shift.
 * tests/test_verify.py checks this function against kws_requantize on millions of values.
 */
#ifndef KWS_REQUANTIZE_M4_H
#define KWS_REQUANTIZE_M4_H

#include "kws_acle.h"

/* acc2 = 2 * acc; k and exponent from the generator (see above). */
static inline int32_t kws_m4_requantize(int32_t acc2, int32_t multiplier, int32_t k, int32_t exponent)
{
    return kws_ssat8(kws_smmlar(acc2, multiplier, k) >> exponent);
}

#endif /* KWS_REQUANTIZE_M4_H */
