/*
 * kws_row_memo.h - host builds only: output rows of a convolution remembered by the input rows
 * they were computed from, so that a stream's overlapping windows compute each row once.
 *
 * Output row oy of a convolution with dilation_h 1 depends on the op (weights, offsets,
 * geometry: the constant params pointer) and on nothing but padded input rows
 * oy * stride_h - pad_top .. + k_h - 1: how many of them are padding above and below, and the
 * bytes of the others, consecutive in NHWC. Consecutive windows of a stream, shifted by a
 * multiple of stride_h frames, share most of those rows; the memo keys each output row by the
 * op, the two padding counts and those bytes (compared in full, never by hash alone), so a row
 * it returns is the row the kernel would compute. The firmware never links this: on the chip
 * every window is computed in full, as the DWT figures report.
 *
 * Not thread-safe, as the generated model's static arena is not.
 */
#ifndef KWS_ROW_MEMO_H
#define KWS_ROW_MEMO_H

#include <stdint.h>

#include "kws_kernels.h"

#define KWS_ROW_MEMO_MAX_ROWS 256 /* output rows of a memoized op, at most */

/* Copies the remembered output rows of op `op` (geometry g) for `input` into `output`, sets
   missing[oy] for the others, and returns how many are missing; -1 when the op is not memoized
   (memo off, dilation_h != 1, or rows too large for its slots). */
int32_t kws_row_memo_lookup(const void *op, const kws_conv_geometry *g, const int8_t *input, int8_t *output,
                            uint8_t missing[KWS_ROW_MEMO_MAX_ROWS]);

/* Remembers the output rows lookup found missing, now computed in `output`. */
void kws_row_memo_store(const void *op, const kws_conv_geometry *g, const int8_t *input, const int8_t *output,
                        const uint8_t missing[KWS_ROW_MEMO_MAX_ROWS]);

/* Exported for tests and benchmarks: turn the memo on (1, the default) or off (0, and forget
   every row), and read how many rows it returned and how many were computed. */
void kws_row_memo_enable(int32_t on);
void kws_row_memo_counts(uint64_t counts[2]);

#endif /* KWS_ROW_MEMO_H */
