/* filterbank.c - see filterbank.h. */
#include "filterbank.h"

#include "dsp16.h"
#include "frontend_tables.h"

/*
 * Bin power re^2 + im^2 as the reference computes it: a uint32 that is then
 * read as an int32, so the single value 2^31, from (-32768, -32768), counts as
 * -2^31 (SMUAD's wrapped sum is exactly that).
 */
static inline int32_t bin_power(uint32_t bin) { return (int32_t)kws_smuad(bin, bin); }

/*
 * floor(sqrt(n)) for 0 < n < 2^32.  A table seed from the top 8 bits
 * overestimates the root (by under 3 % once n >= 64); integer Newton steps from
 * above never go below the floor, two of them bring it within one of it (checked
 * exhaustively over all n), and the final loop makes it exact.
 */
static uint32_t root32(uint32_t n) {
    const int k = (31 - __builtin_clz(n)) & ~1;
    const uint32_t mantissa = k >= 6 ? n >> (k - 6) : n << (6 - k);
    const int scale = k / 2 - 6;
    const uint32_t seed = kws_sqrt_seed[mantissa - 64];
    uint32_t x = scale >= 0 ? seed << scale : (seed + (1u << -scale) - 1) >> -scale;
    x = (x + n / x) >> 1;
    x = (x + n / x) >> 1;
    while ((uint64_t)x * x > n) {
        --x;
    }
    return x;
}

/*
 * floor(sqrt(n)) for n >= 2^32, without 64-bit division: the root of the top
 * 32 bits (at an even shift 2s) fixes all but the low s bits, which a binary
 * search settles with 32x32->64 multiplies.
 */
static uint32_t root64(uint64_t n) {
    const int s = (63 - __builtin_clzll(n) - 30) >> 1;
    uint32_t root = root32((uint32_t)(n >> (2 * s))) << s;
    for (uint32_t bit = 1u << (s - 1); bit; bit >>= 1) {
        const uint32_t trial = root + bit;
        root = (uint64_t)trial * trial <= n ? trial : root;
    }
    return root;
}

/*
 * Square root rounded to nearest, as the reference rounds it: up when the
 * remainder exceeds the root, except at the top of the 16-bit range when the
 * value fits in 32 bits (the reference's 32-bit path) or of the 32-bit range.
 */
static uint32_t amplitude(uint64_t n) {
    if (n == 0) {
        return 0;
    }
    if ((n >> 32) == 0) {
        const uint32_t root = root32((uint32_t)n);
        const uint32_t rest = (uint32_t)n - root * root;
        return root + (rest > root && root != 0xFFFFu);
    }
    const uint32_t root = root64(n);
    const uint64_t rest = n - (uint64_t)root * root;
    return root + (rest > root && root != 0xFFFFFFFFu);
}

void kws_filterbank_apply(const struct kws_spectrum *spectrum, int shift,
                          uint32_t out[KWS_NUM_CHANNELS]) {
    int64_t carry = 0; /* unweighted sum of the previous band */
    int bin = KWS_FB_FIRST_BIN;
    for (int band = 0; band <= KWS_NUM_CHANNELS; ++band) {
        int64_t weighted = 0;
        int64_t unweighted = 0;
        for (const int end = kws_fb_band_end[band]; bin < end; ++bin) {
            const int32_t p = bin_power(spectrum->bins[bin]);
            weighted += (int64_t)kws_fb_weights[bin - KWS_FB_FIRST_BIN] * p;
            unweighted += (int64_t)kws_fb_unweights[bin - KWS_FB_FIRST_BIN] * p;
        }
        if (band > 0) {
            /* Modulo 2^64 this is the reference's unsigned accumulation. */
            out[band - 1] = amplitude((uint64_t)(carry + weighted)) >> shift;
        }
        carry = unweighted;
    }
}
