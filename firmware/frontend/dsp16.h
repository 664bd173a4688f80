/*
 * dsp16.h - the Cortex-M4 DSP instructions the FFT and the filterbank use, on
 * pairs of int16 packed in a word (bits 0-15 the bottom lane B, bits 16-31 the
 * top lane T; for a complex value B is the real part).
 *
 * With the DSP extension each is one instruction (ACLE's <arm_acle.h>;
 * PKHBT has no intrinsic and is written as the mask-and-shift GCC maps onto
 * it); elsewhere (the host build Python loads) portable C with the same
 * results, so the frontend's one source is tested bit-exact against
 * TensorFlow's op on the host.  All lane arithmetic wraps modulo 2^16 and all
 * 32-bit arithmetic modulo 2^32, as the instructions do (none of these
 * saturates).
 */
#ifndef KWS_FRONTEND_DSP16_H
#define KWS_FRONTEND_DSP16_H

#include <stdint.h>

static inline int32_t kws_lo16(uint32_t x) { return (int16_t)(x & 0xFFFFu); }
static inline int32_t kws_hi16(uint32_t x) { return (int16_t)(x >> 16); }

/* a.B b.B; a.T b.T (GCC emits SMULBB / SMULTT for these; ACLE has no intrinsic). */
static inline int32_t kws_smulbb(uint32_t a, uint32_t b) { return kws_lo16(a) * kws_lo16(b); }
static inline int32_t kws_smultt(uint32_t a, uint32_t b) { return kws_hi16(a) * kws_hi16(b); }

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>

/* B of b | T of t: PKHBT. */
static inline uint32_t kws_pkhbt(uint32_t b, uint32_t t)
{
    uint32_t r;
    __asm("pkhbt %0, %1, %2" : "=r"(r) : "r"(b), "r"(t));
    return r;
}
/* B of b | T of (t << 1): PKHBT with LSL #1. */
static inline uint32_t kws_pkhbt_lsl1(uint32_t b, uint32_t t)
{
    uint32_t r;
    __asm("pkhbt %0, %1, %2, lsl #1" : "=r"(r) : "r"(b), "r"(t));
    return r;
}
/* T of t | B of (b >> 15), arithmetic: PKHTB with ASR #15. */
static inline uint32_t kws_pkhtb_asr15(uint32_t t, int32_t b)
{
    uint32_t r;
    __asm("pkhtb %0, %1, %2, asr #15" : "=r"(r) : "r"(t), "r"(b));
    return r;
}

static inline uint32_t kws_sadd16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int32_t)a, (int32_t)b); }
static inline uint32_t kws_ssub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int32_t)a, (int32_t)b); }
static inline uint32_t kws_sasx(uint32_t a, uint32_t b) { return (uint32_t)__sasx((int32_t)a, (int32_t)b); }
static inline uint32_t kws_ssax(uint32_t a, uint32_t b) { return (uint32_t)__ssax((int32_t)a, (int32_t)b); }
static inline uint32_t kws_shadd16(uint32_t a, uint32_t b) { return (uint32_t)__shadd16((int32_t)a, (int32_t)b); }
static inline uint32_t kws_shsub16(uint32_t a, uint32_t b) { return (uint32_t)__shsub16((int32_t)a, (int32_t)b); }
static inline int32_t kws_smlsd(uint32_t a, uint32_t b, int32_t acc) { return __smlsd((int32_t)a, (int32_t)b, acc); }
static inline int32_t kws_smladx(uint32_t a, uint32_t b, int32_t acc) { return __smladx((int32_t)a, (int32_t)b, acc); }
static inline int32_t kws_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
static inline int32_t kws_smlatb(uint32_t a, uint32_t b, int32_t acc) { return __smlatb((int32_t)a, (int32_t)b, acc); }
static inline uint32_t kws_smuad(uint32_t a, uint32_t b) { return (uint32_t)__smuad((int32_t)a, (int32_t)b); }
/*
 * Lane-wise signed a > b in the GE flags, then SEL, in one asm so nothing comes between: UADD16 of
 * a ^ 0x8000 (signed order as unsigned order) and ~(b ^ 0x8000) carries out of a lane exactly when
 * a > b there.  Not SSUB16 + SEL: Renode 1.15.1's core sets SSUB16's GE flags from signed overflow
 * instead of the sign of the difference, so SEL picked the wrong lanes there; UADD16's carry is
 * the same in Renode, the Unicorn backend and the chip.
 */
#define KWS_BIAS16 0x80008000u
static inline uint32_t kws_max16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm("uadd16 %0, %1, %2\n\tsel %0, %3, %4" : "=&r"(r) : "r"(a ^ KWS_BIAS16), "r"(b ^ ~KWS_BIAS16), "r"(a), "r"(b) : "cc");
    return r;
}
static inline uint32_t kws_min16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm("uadd16 %0, %1, %2\n\tsel %0, %4, %3" : "=&r"(r) : "r"(a ^ KWS_BIAS16), "r"(b ^ ~KWS_BIAS16), "r"(a), "r"(b) : "cc");
    return r;
}
#else
static inline uint32_t kws_pkhbt(uint32_t b, uint32_t t) { return (b & 0xFFFFu) | (t & 0xFFFF0000u); }
static inline uint32_t kws_pkhbt_lsl1(uint32_t b, uint32_t t) { return (b & 0xFFFFu) | ((t << 1) & 0xFFFF0000u); }
static inline uint32_t kws_pkhtb_asr15(uint32_t t, int32_t b) { return (t & 0xFFFF0000u) | ((uint32_t)(b >> 15) & 0xFFFFu); }

static inline uint32_t kws_pack16(int32_t b, int32_t t) { return ((uint32_t)b & 0xFFFFu) | ((uint32_t)t << 16); }

/* Lane-wise a + b, a - b. */
static inline uint32_t kws_sadd16(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) + kws_lo16(b), kws_hi16(a) + kws_hi16(b)); }
static inline uint32_t kws_ssub16(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) - kws_lo16(b), kws_hi16(a) - kws_hi16(b)); }
/* B = a.B - b.T, T = a.T + b.B. */
static inline uint32_t kws_sasx(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) - kws_hi16(b), kws_hi16(a) + kws_lo16(b)); }
/* B = a.B + b.T, T = a.T - b.B. */
static inline uint32_t kws_ssax(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) + kws_hi16(b), kws_hi16(a) - kws_lo16(b)); }
/* Lane-wise (a + b) >> 1, (a - b) >> 1, from the exact 17-bit sums. */
static inline uint32_t kws_shadd16(uint32_t a, uint32_t b) { return kws_pack16((kws_lo16(a) + kws_lo16(b)) >> 1, (kws_hi16(a) + kws_hi16(b)) >> 1); }
static inline uint32_t kws_shsub16(uint32_t a, uint32_t b) { return kws_pack16((kws_lo16(a) - kws_lo16(b)) >> 1, (kws_hi16(a) - kws_hi16(b)) >> 1); }
/* acc + a.B b.B - a.T b.T; acc + a.B b.T + a.T b.B. */
static inline int32_t kws_smlsd(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_lo16(a) * kws_lo16(b)) - (uint32_t)(kws_hi16(a) * kws_hi16(b)));
}
static inline int32_t kws_smladx(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_lo16(a) * kws_hi16(b)) + (uint32_t)(kws_hi16(a) * kws_lo16(b)));
}
/* acc + a.B b.B; acc + a.T b.B. */
static inline int32_t kws_smlabb(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(kws_lo16(a) * kws_lo16(b))); }
static inline int32_t kws_smlatb(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(kws_hi16(a) * kws_lo16(b))); }
/* a.B b.B + a.T b.T, as 32 bits. */
static inline uint32_t kws_smuad(uint32_t a, uint32_t b) { return (uint32_t)(kws_lo16(a) * kws_lo16(b)) + (uint32_t)(kws_hi16(a) * kws_hi16(b)); }
/* Lane-wise max and min. */
static inline uint32_t kws_max16(uint32_t a, uint32_t b)
{
    return kws_pack16(kws_lo16(a) > kws_lo16(b) ? kws_lo16(a) : kws_lo16(b), kws_hi16(a) > kws_hi16(b) ? kws_hi16(a) : kws_hi16(b));
}
static inline uint32_t kws_min16(uint32_t a, uint32_t b)
{
    return kws_pack16(kws_lo16(a) < kws_lo16(b) ? kws_lo16(a) : kws_lo16(b), kws_hi16(a) < kws_hi16(b) ? kws_hi16(a) : kws_hi16(b));
}
#endif

#endif /* KWS_FRONTEND_DSP16_H */
