/*
 * SOFTMAX (reference), also used by the cortex_m4 set.
 *
 * int8: TFLM's reference quantized softmax. The input difference to the row maximum is scaled
 * into Q5.26, exponentiated by gemmlowp's fixed-point exp (Q0.31), summed in Q12.19, and the
 * sum inverted by gemmlowp's Newton-Raphson 1/(1+x); output scale 1/256, zero point -128.
 */
#include <math.h>

#include "kws_fixedpoint.h"
#include "kws_kernels.h"

enum { SCALED_DIFF_INTEGER_BITS = 5, ACCUMULATION_INTEGER_BITS = 12 };

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8. */
static int32_t exp_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28);
    const int32_t x2 = kws_srdhm(x, x);
    const int32_t x3 = kws_srdhm(x2, x);
    const int32_t x4 = kws_srdhm(x2, x2);
    const int32_t x4_over_4 = kws_rounding_divide_by_pot(x4, 2);
    const int32_t poly = kws_rounding_divide_by_pot(kws_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + kws_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0, a in Q5.26, result in Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    enum { FRACTIONAL_BITS = 31 - SCALED_DIFF_INTEGER_BITS };
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t one_quarter = 1 << (FRACTIONAL_BITS - 2);
    const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_quarter_interval(kws_saturating_shift_left(a_mod_quarter_minus_quarter, SCALED_DIFF_INTEGER_BITS));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int e = -2; e <= 4; ++e) { /* exp(-2^e) for every bit set in the remainder */
        if (remainder & (1 << (FRACTIONAL_BITS + e))) {
            result = kws_srdhm(result, multipliers[e + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out: three Newton-Raphson steps in Q2.29. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t one_q2 = 1 << 29;
    int32_t x = 1515870810 + kws_srdhm(half_denominator, -1010580540);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus = one_q2 - kws_srdhm(half_denominator, x);
        x = x + kws_saturating_shift_left(kws_srdhm(x, one_minus), 2);
    }
    return kws_saturating_shift_left(x, 1);
}

static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    while (n < 32 && !(x & (UINT32_C(0x80000000) >> n))) {
        ++n;
    }
    return n;
}

static int32_t scaled_diff(const kws_softmax_params *p, int32_t diff)
{
    return kws_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
}

void kws_softmax_s8(const kws_softmax_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max = INT8_MIN;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        int32_t sum = 0; /* Q12.19 */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            if (diff >= p->diff_min) {
                sum += kws_rounding_divide_by_pot(exp_on_negative_values(scaled_diff(p, diff)), ACCUMULATION_INTEGER_BITS);
            }
        }
        const int headroom_plus_one = count_leading_zeros((uint32_t)sum);
        const int bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum << headroom_plus_one) - (UINT32_C(1) << 31));
        const int32_t reciprocal = one_over_one_plus_x(shifted_sum_minus_one);
        const int exponent = bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            int32_t q = INT8_MIN;
            if (diff >= p->diff_min) {
                const int32_t e = exp_on_negative_values(scaled_diff(p, diff));
                q = kws_clamp(kws_rounding_divide_by_pot(kws_srdhm(reciprocal, e), exponent) + INT8_MIN, INT8_MIN, INT8_MAX);
            }
            out[c] = (int8_t)q;
        }
    }
}

void kws_softmax_f32(const kws_softmax_params *p, const float *input, float *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const float *in = input + r * p->depth;
        float *out = output + r * p->depth;
        float max = in[0];
        for (int32_t c = 1; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; ++c) {
            out[c] = expf((in[c] - max) * p->beta);
            sum += out[c];
        }
        for (int32_t c = 0; c < p->depth; ++c) {
            out[c] = out[c] / sum;
        }
    }
}
