/*
 * fft.c - see fft.h.
 *
 * The real input is read as 256 complex points z[n] = in[2n] + i in[2n+1]
 * (on a little-endian core that is just the input read as words).  The
 * complex FFT is decimation in time, radix 4, four stages.  The first stage
 * reads z in base-4 digit-reversed order straight from the input (applying the
 * scaling shift on the fly); the later stages combine length-m transforms,
 * m = 4, 16, 64, in place.  A final pass splits the result into the spectrum
 * of the real input, also in place.
 *
 * Every value is stored as int16, as in kissfft; sums and differences wrap
 * lane by lane (SADD16, SSUB16, SASX, SSAX), products are formed in 32 bits
 * and rounded (SMLSD, SMLADX, SMLABB, SMLATB with the rounding constant as
 * accumulator), and PKHBT packs the two rounded halves.
 */
#include "fft.h"

#include <string.h>

#include "dsp16.h"
#include "frontend_tables.h"

#define CPOINTS (KWS_FFT_SIZE / 2)

typedef char kws_fft_size_check[(CPOINTS == 256) ? 1 : -1];
/* Sample pairs read as complex words put the even sample in the low half. */
typedef char kws_fft_little_endian[(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? 1 : -1];

#define ROUND_Q15 (1 << 14)
/* kissfft divides by 4 and by 2 as Q15 multiplies by 32767 / 4 and 32767 / 2. */
#define QUARTER_Q15 8191u
#define HALF_Q15 16383u

/*
 * Both halves of x (lo carrying x's bottom lane, hi its top lane) times k in
 * Q15, rounded, packed.  The top product is formed doubled (2k, twice the
 * rounding: exact, |2 k x| < 2^30), which puts the rounded result in bits
 * 16-31 where PKHTB takes it.
 */
static inline uint32_t scale_q15(uint32_t lo, uint32_t hi, uint32_t k)
{
    const int32_t b = kws_smlabb(lo, k, ROUND_Q15);
    const int32_t t2 = kws_smlatb(hi, 2 * k, 2 * ROUND_Q15);
    return kws_pkhtb_asr15((uint32_t)t2, b);
}

static inline uint32_t quarter(uint32_t x) { return scale_q15(x, x, QUARTER_Q15); }
static inline uint32_t half(uint32_t x) { return scale_q15(x, x, HALF_Q15); }

/* a * w in Q15, each part rounded and wrapped to int16 (kissfft's C_MUL). */
static inline uint32_t twiddle(uint32_t a, uint32_t w)
{
    const int32_t re = kws_smlsd(a, w, ROUND_Q15) >> 15;
    const int32_t im = kws_smladx(a, w, ROUND_Q15);
    return kws_pkhbt_lsl1((uint32_t)re, (uint32_t)im); /* bits 15-30 of im: the low half of im >> 15 */
}

/*
 * The radix-4 butterfly on quartered inputs a0 and twiddled b1, b2, b3, into
 * out[0], out[m], out[2m], out[3m].
 */
static inline __attribute__((always_inline)) void butterfly(uint32_t *out, int m, uint32_t a0, uint32_t b1,
                                                             uint32_t b2, uint32_t b3)
{
    const uint32_t even = kws_sadd16(a0, b2);
    const uint32_t odd = kws_ssub16(a0, b2);
    const uint32_t sum = kws_sadd16(b1, b3);
    const uint32_t dif = kws_ssub16(b1, b3);
    out[0] = kws_sadd16(even, sum);
    out[2 * m] = kws_ssub16(even, sum);
    out[m] = kws_ssax(odd, dif);     /* odd - i dif */
    out[3 * m] = kws_sasx(odd, dif); /* odd + i dif */
}

/*
 * One stage combining length-m transforms.  tw holds, for j = 1..3, the
 * twiddles w^(j k s) at [(j - 1) m + k], k = 0..m-1.  Inlined per stage so
 * that m, and with it every offset, is a constant.
 */
static inline __attribute__((always_inline)) void stage(uint32_t *restrict z, int m, const uint32_t *restrict tw)
{
    for (int base = 0; base < CPOINTS; base += 4 * m) {
        uint32_t *x = z + base;
        for (int k = 0; k < m; ++k) {
            const uint32_t a0 = quarter(x[k]);
            const uint32_t b1 = twiddle(quarter(x[k + m]), tw[k]);
            const uint32_t b2 = twiddle(quarter(x[k + 2 * m]), tw[m + k]);
            const uint32_t b3 = twiddle(quarter(x[k + 3 * m]), tw[2 * m + k]);
            butterfly(x + k, m, a0, b1, b2, b3);
        }
    }
}

/* The complex point of two consecutive input samples: a word load (the input is 4-byte aligned in practice;
 * memcpy keeps C's aliasing rules and compiles to one LDR either way). */
static inline uint32_t point(const int16_t *x)
{
    uint32_t v;
    memcpy(&v, x, sizeof v);
    return v;
}

/* Input word x (two samples) shifted left per lane, wrapped to int16, then quartered. */
static inline uint32_t scaled_quarter(uint32_t x, int shift)
{
    return scale_q15(x << shift, (x & 0xFFFF0000u) << shift, QUARTER_Q15);
}

/*
 * First stage: length-4 transforms (all twiddles w^0, exact: no multiply) of
 * z[c], z[c+64], z[c+128], z[c+192] for c = d0 + 4 d1 + 16 d2, stored at 4 g,
 * 4 g + 1, ... with g = 16 d0 + 4 d1 + d2 (digit reversal).
 */
static void first_stage(const int16_t *in, int shift, uint32_t *restrict z)
{
    for (int d0 = 0; d0 < 4; ++d0) {
        for (int d1 = 0; d1 < 4; ++d1) {
            const int16_t *x = in + 2 * (d0 + 4 * d1);
            uint32_t *out = z + 4 * (16 * d0 + 4 * d1);
            for (int d2 = 0; d2 < 4; ++d2, x += 2 * 16, out += 4) {
                butterfly(out, 1, scaled_quarter(point(x), shift), scaled_quarter(point(x + 2 * 64), shift),
                          scaled_quarter(point(x + 2 * 128), shift), scaled_quarter(point(x + 2 * 192), shift));
            }
        }
    }
}

/*
 * Split the packed transform Z into the real-input spectrum X, in place:
 * X[k] = (F1 + W^k F2) / 2 with F1 = (Z[k] + conj Z[N-k]) / 2, F2 = (Z[k] - conj Z[N-k]) / 2.
 */
static void split(uint32_t *z)
{
    const uint32_t dc = half(z[0]);
    z[0] = (uint32_t)(kws_lo16(dc) + kws_hi16(dc)) & 0xFFFFu;
    z[CPOINTS] = (uint32_t)(kws_lo16(dc) - kws_hi16(dc)) & 0xFFFFu;
    for (int k = 1; k <= CPOINTS / 2; ++k) {
        const uint32_t zk = z[k];
        const uint32_t zn = z[CPOINTS - k];
        const uint32_t p = half(zk);
        const uint32_t q = half(kws_pkhbt(zn, kws_ssub16(0, zn))); /* conj: the imaginary part negated, wrapped */
        const uint32_t f1 = kws_sadd16(p, q);
        const uint32_t f2 = kws_ssub16(p, q);
        const uint32_t t = twiddle(f2, kws_fft_split[k - 1]); /* may wrap, like kissfft */
        z[k] = kws_shadd16(f1, t);
        /* (f1.re - t.re, t.im - f1.im) / 2: conj of (F1 - W^k F2), halved. */
        z[CPOINTS - k] = kws_shsub16(kws_pkhbt(f1, t), kws_pkhbt(t, f1));
    }
}

void kws_fft_real(const int16_t in[KWS_FFT_SIZE], int shift, struct kws_spectrum *out)
{
    first_stage(in, shift, out->bins);
    stage(out->bins, 4, kws_fft_tw4);
    stage(out->bins, 16, kws_fft_tw16);
    stage(out->bins, 64, kws_fft_tw64);
    split(out->bins);
}
