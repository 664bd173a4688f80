/*
 * conv_1ch.h - the Cortex-M4 fast path shared by CONV_2D and DEPTHWISE_CONV_2D when the input
 * has one channel and the kernel is 8 wide with stride 2 along x (TinyConv's first layer,
 * whichever of the two ops the converter chose):
 *
 *   out[oy][ox][c] = requantize(bias[c] + sum_{ky,kx} (x[oy*sh + ky - pt][2*ox + kx - pl] + off) * w[c][ky][kx])
 *
 * Four outputs along x form a block. With stride 2 their taps over one kernel row are the
 * bytes b..b+13 of the padded row (b = 8 * block), and the six words at b, b+2, ..., b+10,
 * split by SXTB16 / SXTB16 ROR #8 into halfword pairs, feed all of them: pair 2i = (x[b+2i],
 * x[b+2i+2]), pair 2i+1 = (x[b+2i+1], x[b+2i+3]), and output p of the block takes pairs 2p,
 * 2p+1 with weights {w0, w2}, {w1, w3} and pairs 2p+4, 2p+5 with {w4, w6}, {w5, w7}.
 * A block column ("strip") is unpacked once into 12 words per padded row, borders filled with
 * the input zero point (so no PAD op is needed), a chunk of rows at a time to keep RAM small;
 * every output row and channel of the strip then runs on ready pairs: per kernel row 4 weight
 * words, 12 pair words and 16 SMLADs for 32 MACs.
 *
 * The generator lays each channel's constants out in the order they are consumed
 * (kws_kernels.h): 2 * bias' (4 times), the doubled weight pairs row by row, then the requantization
 * words. bias' = bias + off * sum(w) folds the input offset, so the sum is over raw int8 and
 * is the same integer as TFLM's, doubled for the SMMLAR requantization (requantize_m4.h).
 */
#ifndef KWS_CONV_1CH_H
#define KWS_CONV_1CH_H

#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"
#include "requantize_m4.h"
#if defined(KWS_ROW_MEMO)
#include "kws_row_memo.h"
#endif

#define KWS_M4_STRIP_WORDS 12 /* pair words per padded row of a strip */

/* Whether the fast path applies (the generator sets scratch by the same rule, model/deploy/codegen/m4_layout.py's
   conv_fast, and lays out the constants for it). */
static inline int kws_m4_conv_fast(const kws_conv_s8_params *p)
{
    const kws_conv_geometry *g = &p->g;
    return p->scratch != 0 && g->in_c == 1 && g->k_w == 8 && g->stride_w == 2 && g->dilation_h == 1 &&
           g->dilation_w == 1 && g->out_w % 4 == 0;
}

#if defined(KWS_M4_ASM)
#define KWS_ASM_ARG __attribute__((unused)) /* read by the assembly, per the procedure call standard */

/* kws_m4_unpack in assembly (GCC stores word by word): per row 6 LDRs, 12 SXTB16s, 2 STMs. */
__attribute__((naked)) static void kws_m4_unpack(KWS_ASM_ARG const int8_t *src, KWS_ASM_ARG int32_t *s,
                                                KWS_ASM_ARG int32_t rows, KWS_ASM_ARG int32_t stride)
{
    __asm__ volatile(
        "    push    {r4-r11, lr}\n"
        "1:  ldr     r4, [r0]\n"
        "    ldr     r6, [r0, #2]\n"
        "    ldr     r8, [r0, #4]\n"
        "    ldr     r10, [r0, #6]\n"
        "    sxtb16  r5, r4, ror #8\n"
        "    sxtb16  r4, r4\n"
        "    sxtb16  r7, r6, ror #8\n"
        "    sxtb16  r6, r6\n"
        "    sxtb16  r9, r8, ror #8\n"
        "    sxtb16  r8, r8\n"
        "    sxtb16  r11, r10, ror #8\n"
        "    sxtb16  r10, r10\n"
        "    stm     r1!, {r4-r11}\n"
        "    ldr     r4, [r0, #8]\n"
        "    ldr     r6, [r0, #10]\n"
        "    sxtb16  r5, r4, ror #8\n"
        "    sxtb16  r4, r4\n"
        "    sxtb16  r7, r6, ror #8\n"
        "    sxtb16  r6, r6\n"
        "    stm     r1!, {r4-r7}\n"
        "    add     r0, r0, r3\n"
        "    subs    r2, r2, #1\n"
        "    bne     1b\n"
        "    pop     {r4-r11, pc}\n");
}
#else
/* Rows (bytes 0..13 of each, `stride` bytes apart, rows > 0) as pair words: the six words at
   bytes 0, 2, ..., 10 each as SXTB16 and SXTB16 ROR #8, into s. */
static void kws_m4_unpack(const int8_t *src, int32_t *s, int32_t rows, int32_t stride)
{
    for (; rows > 0; --rows, src += stride, s += KWS_M4_STRIP_WORDS) {
        for (int32_t i = 0; i < 6; ++i) {
            const int32_t x = kws_read32(src + 2 * i);
            s[2 * i] = kws_sxtb16(x);
            s[2 * i + 1] = kws_sxtb16_ror8(x);
        }
    }
}
#endif

static inline int32_t kws_m4_clamp_rows(int32_t r, int32_t lo, int32_t hi) { return r < lo ? lo : (r > hi ? hi : r); }

/*
 * Strip rows r0 .. r0 + rows - 1 of the padded input, input columns col0 .. col0 + 13, into s.
 * Border rows unpack a zero-point-filled 16-byte buffer; a strip with columns outside the input
 * (the first and last, with padding) composes each row in that buffer first.
 */
static void kws_m4_strip(const kws_conv_s8_params *p, const int8_t *input, int32_t col0, int32_t r0, int32_t rows,
                         int32_t *s)
{
    const kws_conv_geometry *g = &p->g;
    const int32_t zp_word = (int32_t)(((uint32_t)-p->input_offset & 0xffu) * 0x01010101u);
    int32_t buffer[4] = {zp_word, zp_word, zp_word, zp_word};
    const int32_t lo = col0 < 0 ? 0 : col0, hi = col0 + 14 > g->in_w ? g->in_w : col0 + 14;
    int32_t top = kws_m4_clamp_rows(g->pad_top - r0, 0, rows); /* rows [top, end) hold input rows */
    const int32_t end = hi > lo ? kws_m4_clamp_rows(g->pad_top + g->in_h - r0, top, rows) : top;
    if (top > 0) {
        kws_m4_unpack((const int8_t *)buffer, s, top, 0); /* border rows: the zero point's pairs */
    }
    if (end < rows) {
        kws_m4_unpack((const int8_t *)buffer, s + end * KWS_M4_STRIP_WORDS, rows - end, 0);
    }
    if (end == top) {
        return;
    }
    const int8_t *row = input + (r0 + top - g->pad_top) * g->in_w; /* input row of strip row `top` */
    if (lo == col0 && hi == col0 + 14) {
        kws_m4_unpack(row + col0, s + top * KWS_M4_STRIP_WORDS, end - top, g->in_w);
        return;
    }
    int8_t *to = (int8_t *)buffer + (lo - col0);
    const int32_t n = hi - lo; /* the in-range bytes: by words, the last one overlapping */
    for (; top < end; ++top, row += g->in_w) {
        if (n < 4) {
            memcpy(to, row + lo, (size_t)n);
        } else {
            for (int32_t k = 0; k + 4 < n; k += 4) {
                kws_write32(to + k, kws_read32(row + lo + k));
            }
            kws_write32(to + n - 4, kws_read32(row + lo + n - 4));
        }
        kws_m4_unpack((const int8_t *)buffer, s + top * KWS_M4_STRIP_WORDS, 1, 0);
    }
}

/* Requantizes one doubled sum with the channel's words w (see kws_kernels.h). */
static inline int8_t kws_m4_conv_out(const kws_conv_s8_params *p, const int32_t *w, int32_t acc2)
{
    if (p->fast_requant) {
        return (int8_t)kws_m4_requantize(acc2, w[0], w[1], w[2]);
    }
    return (int8_t)kws_clamp(kws_requantize(acc2 / 2, w[0], w[1]) + p->output_offset, p->act_min, p->act_max);
}

/* One output row of a strip in C, every channel: x is its window, k_h rows of pair words. */
static void kws_m4_window(const kws_conv_s8_params *p, const int32_t *x, int8_t *out)
{
    const kws_conv_geometry *g = &p->g;
    const int32_t step = p->out_blocked ? 1 : g->out_c; /* between the block's 4 outputs */
    const int32_t *w = (const int32_t *)p->weights;
    for (int32_t c = 0; c < g->out_c; ++c, out += p->out_blocked ? 4 : 1) {
        int32_t a0 = w[0], a1 = w[1], a2 = w[2], a3 = w[3];
        w += 4;
        const int32_t *xr = x;
        for (int32_t ky = 0; ky < g->k_h; ++ky, xr += KWS_M4_STRIP_WORDS, w += 4) {
            a0 = kws_smlad(xr[1], w[1], kws_smlad(xr[0], w[0], a0));
            a1 = kws_smlad(xr[3], w[1], kws_smlad(xr[2], w[0], a1));
            a0 = kws_smlad(xr[5], w[3], kws_smlad(xr[4], w[2], a0));
            a2 = kws_smlad(xr[5], w[1], kws_smlad(xr[4], w[0], a2));
            a1 = kws_smlad(xr[7], w[3], kws_smlad(xr[6], w[2], a1));
            a3 = kws_smlad(xr[7], w[1], kws_smlad(xr[6], w[0], a3));
            a2 = kws_smlad(xr[9], w[3], kws_smlad(xr[8], w[2], a2));
            a3 = kws_smlad(xr[11], w[3], kws_smlad(xr[10], w[2], a3));
        }
        out[0] = kws_m4_conv_out(p, w, a0);
        out[step] = kws_m4_conv_out(p, w, a1);
        out[2 * step] = kws_m4_conv_out(p, w, a2);
        out[3 * step] = kws_m4_conv_out(p, w, a3);
        w += 3;
    }
}

/*
 * kws_m4_window with int4 weights: per kernel row one word, byte j = w_j | w_(j+4) << 4. Masked
 * with 0xF0F0F0F0, shifted left by 4 first (w0..w3) and as it stands (w4..w7), its bytes are
 * 16 * w, and SXTB16 / SXTB16 ROR #8 give the four pair words of the int8 stream, 8 times
 * larger; the bias words are 16 * bias', so the sums are 16 * acc, and an exact shift right by
 * 3 gives the 2 * acc the requantization takes (the generator bounds 16 * |acc| below 2^31).
 */
static inline void kws_m4_s4_row(uint32_t word, int32_t w[4])
{
    const uint32_t lo = (word << 4) & 0xf0f0f0f0u, hi = word & 0xf0f0f0f0u;
    w[0] = kws_sxtb16((int32_t)lo);
    w[1] = kws_sxtb16_ror8((int32_t)lo);
    w[2] = kws_sxtb16((int32_t)hi);
    w[3] = kws_sxtb16_ror8((int32_t)hi);
}

static void kws_m4_window_s4(const kws_conv_s8_params *p, const int32_t *x, int8_t *out)
{
    const kws_conv_geometry *g = &p->g;
    const int32_t step = p->out_blocked ? 1 : g->out_c; /* between the block's 4 outputs */
    const int32_t *w = (const int32_t *)p->weights;
    for (int32_t c = 0; c < g->out_c; ++c, out += p->out_blocked ? 4 : 1) {
        int32_t a0 = w[0], a1 = w[1], a2 = w[2], a3 = w[3], r[4];
        w += 4;
        const int32_t *xr = x;
        for (int32_t ky = 0; ky < g->k_h; ++ky, xr += KWS_M4_STRIP_WORDS, ++w) {
            kws_m4_s4_row((uint32_t)w[0], r);
            a0 = kws_smlad(xr[1], r[1], kws_smlad(xr[0], r[0], a0));
            a1 = kws_smlad(xr[3], r[1], kws_smlad(xr[2], r[0], a1));
            a0 = kws_smlad(xr[5], r[3], kws_smlad(xr[4], r[2], a0));
            a2 = kws_smlad(xr[5], r[1], kws_smlad(xr[4], r[0], a2));
            a1 = kws_smlad(xr[7], r[3], kws_smlad(xr[6], r[2], a1));
            a3 = kws_smlad(xr[7], r[1], kws_smlad(xr[6], r[0], a3));
            a2 = kws_smlad(xr[9], r[3], kws_smlad(xr[8], r[2], a2));
            a3 = kws_smlad(xr[11], r[3], kws_smlad(xr[10], r[2], a3));
        }
        out[0] = kws_m4_conv_out(p, w, a0 >> 3);
        out[step] = kws_m4_conv_out(p, w, a1 >> 3);
        out[2 * step] = kws_m4_conv_out(p, w, a2 >> 3);
        out[3 * step] = kws_m4_conv_out(p, w, a3 >> 3);
        w += 3;
    }
}

#if defined(KWS_M4_ASM)
#define KWS_M4_ASM_ROWS 10 /* kernel height of the assembly window (TinyConv's) */

/*
 * kws_m4_window for k_h = 10, blocked output and fast_requant, in assembly: GCC spills the
 * 14 live values of a kernel row (4 sums, 4 weight words, 4 pair words, 2 pointers), and
 * without a register for a row counter the rows are unrolled. Per kernel row: one LDM of
 * weights, three LDMs of pairs, 16 SMLADs. Per channel: the sums start from one LDM of the
 * doubled bias, SMMLAR / ASR / SSAT requantize them (requantize_m4.h), 4 STRBs store them.
 * Arguments: r0 window, r1 the channels' words, r2 output, r3 the end of the words.
 */
#define KWS_M4_WINDOW10(NAME, LOAD_WEIGHTS, TO_DOUBLED)                                                                \
    __attribute__((naked)) static void NAME(KWS_ASM_ARG const int32_t *x, KWS_ASM_ARG const int32_t *w,                \
                                            KWS_ASM_ARG int8_t *out, KWS_ASM_ARG const int32_t *w_end)                 \
    {                                                                                                                  \
        __asm__ volatile(                                                                                              \
            "    push    {r2-r11, lr}\n" /* [sp] = out, [sp, #4] = w_end */                                            \
            "1:  ldm     r1!, {r2-r5}\n"                                                                               \
            "    .rept   10\n"                                                                                         \
        LOAD_WEIGHTS                                                                                                   \
            "    ldm     r0!, {r10-r12, lr}\n"                                                                         \
            "    smlad   r2, r10, r6, r2\n"                                                                            \
            "    smlad   r2, r11, r7, r2\n"                                                                            \
            "    smlad   r3, r12, r6, r3\n"                                                                            \
            "    smlad   r3, lr, r7, r3\n"                                                                             \
            "    ldm     r0!, {r10-r12, lr}\n"                                                                         \
            "    smlad   r2, r10, r8, r2\n"                                                                            \
            "    smlad   r2, r11, r9, r2\n"                                                                            \
            "    smlad   r3, r12, r8, r3\n"                                                                            \
            "    smlad   r3, lr, r9, r3\n"                                                                             \
            "    smlad   r4, r10, r6, r4\n"                                                                            \
            "    smlad   r4, r11, r7, r4\n"                                                                            \
            "    smlad   r5, r12, r6, r5\n"                                                                            \
            "    smlad   r5, lr, r7, r5\n"                                                                             \
            "    ldm     r0!, {r10-r12, lr}\n"                                                                         \
            "    smlad   r4, r10, r8, r4\n"                                                                            \
            "    smlad   r4, r11, r9, r4\n"                                                                            \
            "    smlad   r5, r12, r8, r5\n"                                                                            \
            "    smlad   r5, lr, r9, r5\n"                                                                             \
            "    .endr\n"                                                                                              \
        TO_DOUBLED "    sub     r0, r0, #480\n" /* back to the window: 10 rows of 12 words */                          \
            "    ldm     r1!, {r6-r8}\n"  /* multiplier, k, exponent */                                                \
            "    smmlar  r2, r2, r6, r7\n"                                                                             \
            "    smmlar  r3, r3, r6, r7\n"                                                                             \
            "    smmlar  r4, r4, r6, r7\n"                                                                             \
            "    smmlar  r5, r5, r6, r7\n"                                                                             \
            "    asr     r2, r2, r8\n"                                                                                 \
            "    asr     r3, r3, r8\n"                                                                                 \
            "    asr     r4, r4, r8\n"                                                                                 \
            "    asr     r5, r5, r8\n"                                                                                 \
            "    ssat    r2, #8, r2\n"                                                                                 \
            "    ssat    r3, #8, r3\n"                                                                                 \
            "    ssat    r4, #8, r4\n"                                                                                 \
            "    ssat    r5, #8, r5\n"                                                                                 \
            "    ldrd    r9, r10, [sp]\n"                                                                              \
            "    strb    r2, [r9], #1\n"                                                                               \
            "    strb    r3, [r9], #1\n"                                                                               \
            "    strb    r4, [r9], #1\n"                                                                               \
            "    strb    r5, [r9], #1\n"                                                                               \
            "    str     r9, [sp]\n"                                                                                   \
            "    cmp     r1, r10\n"                                                                                    \
            "    bne     1b\n"                                                                                         \
            "    pop     {r2-r11, pc}\n");                                                                             \
    }

/* int8 weights: one LDM of the row's four pair words */
KWS_M4_WINDOW10(kws_m4_window10, "    ldm     r1!, {r6-r9}\n", "")

/* int4 weights: one word per row, unpacked in registers (kws_m4_s4_row); the sums are 16 * acc */
KWS_M4_WINDOW10(kws_m4_window10_s4,
                "    ldr     r9, [r1], #4\n"
                "    lsl     r7, r9, #4\n"
                "    and     r7, r7, #0xf0f0f0f0\n"
                "    and     r9, r9, #0xf0f0f0f0\n"
                "    sxtb16  r6, r7\n"
                "    sxtb16  r7, r7, ror #8\n"
                "    sxtb16  r8, r9\n"
                "    sxtb16  r9, r9, ror #8\n",
                "    asr     r2, r2, #3\n"
                "    asr     r3, r3, #3\n"
                "    asr     r4, r4, #3\n"
                "    asr     r5, r5, #3\n")
#endif

/* Output rows oy_begin .. oy_end - 1. int4: the weights are the int4 stream (kws_kernels.h); a
   constant, so each caller keeps one window. */
static inline __attribute__((always_inline)) void kws_m4_conv_rows(const kws_conv_s8_params *p, const int8_t *input,
                                                                   int8_t *output, const int int4, int32_t oy_begin,
                                                                   int32_t oy_end)
{
    const kws_conv_geometry *g = &p->g;
    const int32_t blocks = g->out_w / 4;
    const int32_t chunk = (p->scratch_rows - g->k_h) / g->stride_h + 1; /* output rows per strip chunk */
#if defined(KWS_M4_ASM)
    const int use_asm = p->out_blocked && p->fast_requant && g->k_h == KWS_M4_ASM_ROWS;
    const int32_t *w_end = (const int32_t *)p->weights + g->out_c * (4 + (int4 ? 1 : 4) * g->k_h + 3);
#endif
    for (int32_t b = 0; b < blocks; ++b) {
        for (int32_t oy0 = oy_begin; oy0 < oy_end; oy0 += chunk) {
            const int32_t n = oy_end - oy0 < chunk ? oy_end - oy0 : chunk;
            kws_m4_strip(p, input, 8 * b - g->pad_left, oy0 * g->stride_h, (n - 1) * g->stride_h + g->k_h,
                         p->scratch);
            const int32_t *x = p->scratch;
            for (int32_t oy = oy0; oy < oy0 + n; ++oy, x += g->stride_h * KWS_M4_STRIP_WORDS) {
                /* blocked: [oy][block][c][4] for a FULLY_CONNECTED consumer; else NHWC. */
                int8_t *out = p->out_blocked ? output + (oy * blocks + b) * g->out_c * 4
                                             : output + (oy * g->out_w + 4 * b) * g->out_c;
#if defined(KWS_M4_ASM)
                if (use_asm) {
                    (int4 ? kws_m4_window10_s4 : kws_m4_window10)(x, (const int32_t *)p->weights, out,
                                                                             w_end);
                    continue;
                }
#endif
                (int4 ? kws_m4_window_s4 : kws_m4_window)(p, x, out);
            }
        }
    }
}

/* Every output row; a host build (KWS_ROW_MEMO) computes only the rows its memo does not hold,
   in runs of consecutive rows (host/kws_row_memo.h). Both layouts keep a row's bytes together. */
static inline __attribute__((always_inline)) void kws_m4_conv_1ch(const kws_conv_s8_params *p, const int8_t *input,
                                                                  int8_t *output, const int int4)
{
#if defined(KWS_ROW_MEMO)
    uint8_t missing[KWS_ROW_MEMO_MAX_ROWS];
    if (kws_row_memo_lookup(p, &p->g, input, output, missing) >= 0) {
        for (int32_t oy = 0; oy < p->g.out_h;) {
            int32_t end = oy;
            while (end < p->g.out_h && missing[end]) {
                ++end;
            }
            if (end > oy) {
                kws_m4_conv_rows(p, input, output, int4, oy, end);
            }
            oy = end + 1;
        }
        kws_row_memo_store(p, &p->g, input, output, missing);
        return;
    }
#endif
    kws_m4_conv_rows(p, input, output, int4, 0, p->g.out_h);
}

#endif /* KWS_CONV_1CH_H */
