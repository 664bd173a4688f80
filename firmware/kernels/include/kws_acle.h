/*
 * kws_acle.h - the few Cortex-M4 DSP instructions the cortex_m4 kernels use.
 *
 * On a core with the DSP extension they are ACLE's intrinsics (<arm_acle.h>), or one-instruction
 * inline asm where ACLE has none (SMMLAR); elsewhere (the host) they are portable C with the
 * same results, so the very same kernel source is tested bit-exact on the host before it runs
 * on the target.
 */
#ifndef KWS_ACLE_H
#define KWS_ACLE_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>

/* The kernels' assembly paths (Thumb-2 with DSP); their C twins run elsewhere. */
#define KWS_M4_ASM 1

/* Bytes 0 and 2 of x, sign-extended to the two halfwords (SXTB16). */
static inline int32_t kws_sxtb16(int32_t x) { return __sxtb16(x); }
/* Bytes 1 and 3 of x, sign-extended (SXTB16 with ROR #8; GCC 12 would not fold the rotate). */
static inline int32_t kws_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
/* acc + lo(x) * lo(y) + hi(x) * hi(y) on signed halfwords (SMLAD). */
static inline int32_t kws_smlad(int32_t x, int32_t y, int32_t acc) { return __smlad(x, y, acc); }
/* acc + the high word of x * y rounded to nearest, ties up: (acc * 2^32 + x * y + 2^31) >> 32,
   wrapping (SMMLAR). */
static inline int32_t kws_smmlar(int32_t x, int32_t y, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}
/* x clamped to [-128, 127] (SSAT #8). */
static inline int32_t kws_ssat8(int32_t x) { return __ssat(x, 8); }
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
static inline int32_t kws_smmlar(int32_t x, int32_t y, int32_t acc)
{
    const uint64_t sum = ((uint64_t)(uint32_t)acc << 32) + (uint64_t)((int64_t)x * y) + UINT64_C(0x80000000);
    return (int32_t)(uint32_t)(sum >> 32);
}
static inline int32_t kws_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#endif

/* A word from any byte address (a single LDR on the Cortex-M4, which allows unaligned loads). */
static inline int32_t kws_read32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A word to any byte address (a single STR on the Cortex-M4). */
static inline void kws_write32(void *p, int32_t v) { memcpy(p, &v, sizeof v); }

#endif /* KWS_ACLE_H */
