/*
 * requantize_check.c - host harness for tests/test_verify.py: the Cortex-M4 requantization
 * shortcut (cortex_m4/requantize_m4.h, with kws_acle.h's portable SMMLAR / SSAT) next to the
 * reference double rounding (kws_fixedpoint.h) the reference kernels use, on arrays of cases.
 * Not part of any kernel set (kernel builds take the C files of kernels/<set> only).
 */
#include <stdint.h>

#include "kws_fixedpoint.h"
#include "requantize_m4.h"

/* For each case: fast[i] from 2 * acc, k and -shift as the generator lays them out for the
   kernels, ref[i] = clamp(requantize(acc) - 128, -128, 127) as TFLM computes it. */
void kws_requantize_cases(const int32_t *acc, const int32_t *multiplier, const int32_t *shift, const int32_t *k,
                          int32_t *fast, int32_t *ref, int64_t n)
{
    for (int64_t i = 0; i < n; ++i) {
        fast[i] = kws_m4_requantize(2 * acc[i], multiplier[i], k[i], -shift[i]);
        ref[i] = kws_clamp(kws_requantize(acc[i], multiplier[i], shift[i]) - 128, -128, 127);
    }
}
