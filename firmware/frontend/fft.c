/*
 * fft.c - see fft.h.
 *
 * The real input is read as 256 complex points z[n] = in[2n] + i in[2n+1].  The
 * complex FFT is decimation in time, radix 4, four stages.  The first stage
 * reads z in base-4 digit-reversed order straight from the input (applying the
 * scaling shift on the fly); the later stages combine length-m transforms,
 * m = 4, 16, 64, in place.  A final pass splits the result into the spectrum
 * of the real input, also in place.
 *
 * Sums may wrap in int16 like the reference's int16 stores; wrapping commutes
 * with addition, so a chain of additions is wrapped once, but every value that
 * enters a multiplication or a shift is wrapped first.
 */
#include "fft.h"

#include "frontend_tables.h"

#define CPOINTS (KWS_FFT_SIZE / 2)

typedef char kws_fft_size_check[(CPOINTS == 256) ? 1 : -1];

/*
 * Value ranges, which let most int16 truncations go: kissfft's division by 4
 * (a Q15 multiply by 8191) maps int16 to [-8191, 8191]; a Q15 twiddle product
 * of such a value stays within +-11585; its division by 2 (by 16383) maps int16
 * to [-16383, 16383].  Only the split's twiddle product can leave int16.  The
 * twiddle w^0 = (32767, 0) is exact on quartered values: rounding a * 32767 /
 * 32768 gives back a for any |a| <= 16383.
 */
static inline int32_t round_q15(int32_t x) { return (x + (1 << 14)) >> 15; }
static inline int16_t quarter(int16_t x) { return (int16_t)round_q15((int32_t)x * 8191); }
static inline int32_t half(int16_t x) { return round_q15((int32_t)x * 16383); }

/* Input sample scaled by the frontend's shift, wrapped to int16. */
static inline int16_t scaled(int16_t x, int shift) { return (int16_t)((uint32_t)x << shift); }

/*
 * One stage combining length-m transforms.  tw_re/tw_im hold, for j = 1..3,
 * the twiddles w^(j k s) at [(j - 1) m + k], k = 0..m-1.  Inlined per stage so
 * that m, and with it every offset, is a constant.
 */
static inline __attribute__((always_inline)) void stage(int16_t *restrict re, int16_t *restrict im, int m,
                                                        const int16_t *restrict tw_re,
                                                        const int16_t *restrict tw_im) {
    for (int base = 0; base < CPOINTS; base += 4 * m) {
        int16_t *r = re + base;
        int16_t *i = im + base;
        for (int k = 0; k < m; ++k) {
            const int32_t a0r = quarter(r[k]);
            const int32_t a0i = quarter(i[k]);
            const int16_t a1r = quarter(r[k + m]);
            const int16_t a1i = quarter(i[k + m]);
            const int16_t a2r = quarter(r[k + 2 * m]);
            const int16_t a2i = quarter(i[k + 2 * m]);
            const int16_t a3r = quarter(r[k + 3 * m]);
            const int16_t a3i = quarter(i[k + 3 * m]);
            const int16_t w1r = tw_re[k], w1i = tw_im[k];
            const int16_t w2r = tw_re[m + k], w2i = tw_im[m + k];
            const int16_t w3r = tw_re[2 * m + k], w3i = tw_im[2 * m + k];
            const int32_t b1r = round_q15(a1r * w1r - a1i * w1i);
            const int32_t b1i = round_q15(a1r * w1i + a1i * w1r);
            const int32_t b2r = round_q15(a2r * w2r - a2i * w2i);
            const int32_t b2i = round_q15(a2r * w2i + a2i * w2r);
            const int32_t b3r = round_q15(a3r * w3r - a3i * w3i);
            const int32_t b3i = round_q15(a3r * w3i + a3i * w3r);
            const int32_t sum_r = b1r + b3r;
            const int32_t sum_i = b1i + b3i;
            const int32_t dif_r = b1r - b3r;
            const int32_t dif_i = b1i - b3i;
            const int32_t even_r = a0r + b2r;
            const int32_t even_i = a0i + b2i;
            const int32_t odd_r = a0r - b2r;
            const int32_t odd_i = a0i - b2i;
            r[k] = (int16_t)(even_r + sum_r);
            i[k] = (int16_t)(even_i + sum_i);
            r[k + 2 * m] = (int16_t)(even_r - sum_r);
            i[k + 2 * m] = (int16_t)(even_i - sum_i);
            r[k + m] = (int16_t)(odd_r + dif_i);
            i[k + m] = (int16_t)(odd_i - dif_r);
            r[k + 3 * m] = (int16_t)(odd_r - dif_i);
            i[k + 3 * m] = (int16_t)(odd_i + dif_r);
        }
    }
}

/*
 * First stage: length-4 transforms (all twiddles w^0) of z[c], z[c+64],
 * z[c+128], z[c+192] for c = d0 + 4 d1 + 16 d2, stored at 4 g, 4 g + 1, ... with
 * g = 16 d0 + 4 d1 + d2 (digit reversal).
 */
static void first_stage(const int16_t *in, int shift, int16_t *restrict re, int16_t *restrict im) {
    for (int d0 = 0; d0 < 4; ++d0) {
        for (int d1 = 0; d1 < 4; ++d1) {
            const int16_t *x = in + 2 * (d0 + 4 * d1);
            int g4 = 4 * (16 * d0 + 4 * d1);
            for (int d2 = 0; d2 < 4; ++d2, x += 2 * 16, g4 += 4) {
                const int32_t a0r = quarter(scaled(x[0], shift));
                const int32_t a0i = quarter(scaled(x[1], shift));
                const int32_t a1r = quarter(scaled(x[128], shift));
                const int32_t a1i = quarter(scaled(x[129], shift));
                const int32_t a2r = quarter(scaled(x[256], shift));
                const int32_t a2i = quarter(scaled(x[257], shift));
                const int32_t a3r = quarter(scaled(x[384], shift));
                const int32_t a3i = quarter(scaled(x[385], shift));
                re[g4] = (int16_t)(a0r + a2r + a1r + a3r);
                im[g4] = (int16_t)(a0i + a2i + a1i + a3i);
                re[g4 + 2] = (int16_t)(a0r + a2r - a1r - a3r);
                im[g4 + 2] = (int16_t)(a0i + a2i - a1i - a3i);
                re[g4 + 1] = (int16_t)(a0r - a2r + a1i - a3i);
                im[g4 + 1] = (int16_t)(a0i - a2i - a1r + a3r);
                re[g4 + 3] = (int16_t)(a0r - a2r - a1i + a3i);
                im[g4 + 3] = (int16_t)(a0i - a2i + a1r - a3r);
            }
        }
    }
}

/*
 * Split the packed transform Z into the real-input spectrum X, in place:
 * X[k] = (F1 + W^k F2) / 2 with F1 = (Z[k] + conj Z[N-k]) / 2, F2 = (Z[k] - conj Z[N-k]) / 2.
 */
static void split(int16_t *re, int16_t *im) {
    const int32_t dc_r = half(re[0]);
    const int32_t dc_i = half(im[0]);
    re[0] = (int16_t)(dc_r + dc_i);
    im[0] = 0;
    re[CPOINTS] = (int16_t)(dc_r - dc_i);
    im[CPOINTS] = 0;
    for (int k = 1; k <= CPOINTS / 2; ++k) {
        const int32_t pr = half(re[k]);
        const int32_t pi = half(im[k]);
        const int32_t qr = half(re[CPOINTS - k]);
        const int32_t qi = half((int16_t)-im[CPOINTS - k]);
        const int16_t f1r = (int16_t)(pr + qr);
        const int16_t f1i = (int16_t)(pi + qi);
        const int16_t f2r = (int16_t)(pr - qr);
        const int16_t f2i = (int16_t)(pi - qi);
        const int16_t wr = kws_fft_split_re[k - 1];
        const int16_t wi = kws_fft_split_im[k - 1];
        const int32_t tr = (int16_t)round_q15(f2r * wr - f2i * wi); /* may wrap, like kissfft */
        const int32_t ti = (int16_t)round_q15(f2r * wi + f2i * wr);
        re[k] = (int16_t)((f1r + tr) >> 1);
        im[k] = (int16_t)((f1i + ti) >> 1);
        re[CPOINTS - k] = (int16_t)((f1r - tr) >> 1);
        im[CPOINTS - k] = (int16_t)((ti - f1i) >> 1);
    }
}

void kws_fft_real(const int16_t in[KWS_FFT_SIZE], int shift, struct kws_spectrum *out) {
    first_stage(in, shift, out->re, out->im);
    stage(out->re, out->im, 4, kws_fft_tw4_re, kws_fft_tw4_im);
    stage(out->re, out->im, 16, kws_fft_tw16_re, kws_fft_tw16_im);
    stage(out->re, out->im, 64, kws_fft_tw64_re, kws_fft_tw64_im);
    split(out->re, out->im);
}
