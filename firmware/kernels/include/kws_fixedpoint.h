/*
 * kws_fixedpoint.h - integer arithmetic of TFLite's quantized kernels (gemmlowp semantics).
 *
 * Requantization is double rounding, as in TFLM's reference kernels: a saturating rounding
 * doubling high multiply, then a rounding right shift (ties away from zero in both).
 * Additions that gemmlowp does in wrapping int32 are done in uint32 here, which is defined C.
 */
#ifndef KWS_FIXEDPOINT_H
#define KWS_FIXEDPOINT_H

#include <stdint.h>

static inline int32_t kws_add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static inline int32_t kws_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31)); /* division truncates, as gemmlowp's */
}

static inline int32_t kws_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((INT64_C(1) << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift, TFLite's MultiplyByQuantizedMultiplier (double rounding). */
static inline int32_t kws_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return kws_rounding_divide_by_pot(kws_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

static inline int32_t kws_clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* gemmlowp's saturating x * 2^exponent for exponent > 0 (Rescale to fewer integer bits). */
static inline int32_t kws_saturating_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((INT32_C(1) << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

#endif /* KWS_FIXEDPOINT_H */
