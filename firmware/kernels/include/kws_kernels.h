/*
 * kws_kernels.h - the one interface of the NN kernel sets (kernels/reference: portable C;
 * kernels/cortex_m4: Cortex-M4 DSP extension), called by code that model/deploy/codegen/ generates.
 *
 * Tensors are NHWC with batch 1. int8 kernels reproduce TFLM's reference kernels bit for bit
 * (per-channel double-rounding requantization, padding taps skipped, fused activation clamp).
 * The generator fills the parameter structs at generation time; where a kernel set wants its
 * weights arranged differently, the comment of that field says so.
 */
#ifndef KWS_KERNELS_H
#define KWS_KERNELS_H

#include <stdint.h>

/* PAD of a 4-D tensor: out[i] = in[i - before] inside, `value` outside. */
typedef struct {
    int32_t in_dims[4];
    int32_t out_dims[4];
    int32_t before[4];
} kws_pad_params;

void kws_pad_s8(const kws_pad_params *p, int8_t value, const int8_t *input, int8_t *output);
void kws_pad_f32(const kws_pad_params *p, const float *input, float *output);

/* CONV_2D and DEPTHWISE_CONV_2D share one geometry. */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t depth_multiplier; /* depthwise only: out_c = in_c * depth_multiplier */
} kws_conv_geometry;

typedef struct {
    kws_conv_geometry g;
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    /* reference: int8 OHWI (conv) or 1HWO (depthwise). cortex_m4 fast path (kws_m4_conv_fast:
       one input channel, k_w 8, stride_w 2, out_w % 4 == 0, scratch set): int32 words per output
       channel in consumption order: 2 * (bias + input_offset * sum(w[c])) 4 times; per kernel row the
       halfword pairs 2 * {w0, w2}, {w1, w3}, {w4, w6}, {w5, w7}; then multiplier, k, exponent
       (fast_requant, see cortex_m4/requantize_m4.h) or multiplier, shift, 0. Otherwise as reference. */
    const void *weights;
    const int32_t *bias;       /* int32; unused (NULL) on the cortex_m4 fast path */
    const int32_t *multiplier; /* per output channel, Q31; unused (NULL) on the cortex_m4 fast path */
    const int32_t *shift;      /* per output channel, TFLite convention (> 0: left); idem */
    /* cortex_m4 fast path only, zero elsewhere: */
    int32_t *scratch;     /* scratch_rows * 12 words of the arena: a chunk of an unpacked strip */
    int32_t scratch_rows; /* padded rows per chunk, k_h + stride_h * (output rows per chunk - 1) */
    int32_t out_blocked;  /* output as [oy][ox / 4][c][ox % 4] (read only by a FULLY_CONNECTED) */
    int32_t fast_requant; /* the SMMLAR / SSAT requantization, proven exact by the generator */
} kws_conv_s8_params;

void kws_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output);
void kws_depthwise_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output);

/* The same with int4 weights (int8 activations): reference layout packed two per byte as TFLite's
   INT4 tensors (element 2i in the low nibble, 2i + 1 in the high one); cortex_m4 fast path:
   16 * bias' 4 times, one word per kernel row (byte j = w_j | w_(j+4) << 4), then the
   requantization words. */
void kws_conv2d_s4(const kws_conv_s8_params *p, const int8_t *input, int8_t *output);
void kws_depthwise_conv2d_s4(const kws_conv_s8_params *p, const int8_t *input, int8_t *output);

typedef struct {
    kws_conv_geometry g;
    float act_min, act_max;
    const float *weights; /* OHWI (conv) or 1HWO (depthwise) */
    const float *bias;
} kws_conv_f32_params;

void kws_conv2d_f32(const kws_conv_f32_params *p, const float *input, float *output);
void kws_depthwise_conv2d_f32(const kws_conv_f32_params *p, const float *input, float *output);

typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    int32_t per_channel; /* multiplier/shift: one per output (1) or one for all (0) */
    /* int8 [out_depth][in_depth], bias the int32 bias. cortex_m4 fast path (kws_m4_fc_fast):
       per group of 4 outputs and 4 inputs the 4 rows' words in a row ([o/4][d/4][o%4][d%4]),
       bias + input_offset * sum(weights[o]). kws_fully_connected_s4: int4, the reference layout
       TFLite's INT4 (two per byte, element 2i in the low nibble); the fast layout per group of 4
       outputs and 4 inputs two words, byte k of the first = row 0's input k | row 1's << 4, the
       second rows 2 and 3. */
    const void *weights;
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
} kws_fc_s8_params;

/* Whether the cortex_m4 FULLY_CONNECTED takes its fast path (model/deploy/codegen/m4_layout.py: the same rule). */
static inline int kws_m4_fc_fast(const kws_fc_s8_params *p) { return p->in_depth % 4 == 0 && p->out_depth % 4 == 0; }

void kws_fully_connected_s8(const kws_fc_s8_params *p, const int8_t *input, int8_t *output);
void kws_fully_connected_s4(const kws_fc_s8_params *p, const int8_t *input, int8_t *output);

/* FULLY_CONNECTED with int8 weights stored sparse (model/deploy/codegen/sparse.py): fc.weights holds
   the nonzero weights only, row after row in input order; bitmap per output row ceil(in_depth / 32)
   words, bit 31 - k of word j set when input 32 j + k has a nonzero weight (pad bits zero). fc.bias:
   reference the int32 bias; cortex_m4 bias + input_offset * sum(weights[o]). When the conv before
   stores its output blocked, the cortex_m4 bitmap and values follow its order. */
typedef struct {
    kws_fc_s8_params fc;
    const uint32_t *bitmap;
} kws_fc_sparse_params;

void kws_fully_connected_s8_sparse(const kws_fc_sparse_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t batches, in_depth, out_depth;
    float act_min, act_max;
    const float *weights; /* [out_depth][in_depth] */
    const float *bias;
} kws_fc_f32_params;

void kws_fully_connected_f32(const kws_fc_f32_params *p, const float *input, float *output);

/* SOFTMAX over the last dimension; int8 output has scale 1/256 and zero point -128. */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier, input_left_shift, diff_min; /* int8 */
    float beta;                                           /* float32 */
} kws_softmax_params;

void kws_softmax_s8(const kws_softmax_params *p, const int8_t *input, int8_t *output);
void kws_softmax_f32(const kws_softmax_params *p, const float *input, float *output);

/* MAX_POOL_2D and AVERAGE_POOL_2D: NHWC, batch 1; padding positions take no part (TFLite's window
   clipping); the result clamped to the fused activation's range. int8 input and output share
   quantization. */
typedef struct {
    int32_t in_h, in_w, channels, out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max; /* int8 */
    float f_act_min, f_act_max; /* float32 */
} kws_pool_params;

void kws_max_pool_s8(const kws_pool_params *p, const int8_t *input, int8_t *output);
void kws_max_pool_f32(const kws_pool_params *p, const float *input, float *output);
void kws_average_pool_s8(const kws_pool_params *p, const int8_t *input, int8_t *output);
void kws_average_pool_f32(const kws_pool_params *p, const float *input, float *output);

/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 at the edges of a model whose input and
   output are float32 and whose layers are int8 (TFLite's converter without int8 input/output
   types), with TFLite's arithmetic: q = clamp(round(x / scale) + zero_point), the division in
   float and ties away from zero; x = (float)(scale * (q - zero_point)), the product in double. */
typedef struct {
    int32_t count;
    float scale;
    int32_t zero_point;
} kws_quantize_params;

typedef struct {
    int32_t count;
    double scale;
    int32_t zero_point;
} kws_dequantize_params;

void kws_quantize_f32_s8(const kws_quantize_params *p, const float *input, int8_t *output);
void kws_dequantize_s8_f32(const kws_dequantize_params *p, const int8_t *input, float *output);

#endif /* KWS_KERNELS_H */
