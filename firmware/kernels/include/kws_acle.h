/*
 * kws_acle.h - the few Cortex-M4 DSP intrinsics the cortex_m4 kernels use.
 *
 * On a core with the DSP extension they are ACLE's (<arm_acle.h>); elsewhere (the host) they
 * are portable C with the same results, so the very same kernel source is tested bit-exact on
 * the host before it runs on the target.
 */
#ifndef KWS_ACLE_H
#define KWS_ACLE_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>

/* Bytes 0 and 2 of x, sign-extended to the two halfwords (SXTB16). */
static inline int32_t kws_sxtb16(int32_t x) { return __sxtb16(x); }
/* Bytes 1 and 3 of x, sign-extended (SXTB16 with ROR #8: GCC folds the rotate into it). */
static inline int32_t kws_sxtb16_ror8(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return __sxtb16((int32_t)((u >> 8) | (u << 24)));
}
/* acc + lo(x) * lo(y) + hi(x) * hi(y) on signed halfwords (SMLAD). */
static inline int32_t kws_smlad(int32_t x, int32_t y, int32_t acc) { return __smlad(x, y, acc); }
#else
static inline int32_t kws_sxtb16(int32_t x)
{
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(x & 0xff) & 0xffffu;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xff) & 0xffffu;
    return (int32_t)(lo | (hi << 16));
}
static inline int32_t kws_sxtb16_ror8(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return kws_sxtb16((int32_t)((u >> 8) | (u << 24)));
}
static inline int32_t kws_smlad(int32_t x, int32_t y, int32_t acc)
{
    const int32_t lo = (int32_t)(int16_t)(x & 0xffff) * (int32_t)(int16_t)(y & 0xffff);
    const int32_t hi = (int32_t)(int16_t)((x >> 16) & 0xffff) * (int32_t)(int16_t)((y >> 16) & 0xffff);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
#endif

/* A word from any byte address (a single LDR on the Cortex-M4, which allows unaligned loads). */
static inline int32_t kws_read32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif /* KWS_ACLE_H */
