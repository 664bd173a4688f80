/*
 * log_scale.h - fixed-point natural logarithm of each channel, scaled to uint16.
 *
 * log2 is the position of the leading one plus a mantissa corrected by a
 * 128-segment table of log2(1 + f) - f; it is converted to ln in Q16 and
 * scaled by 2^KWS_LOG_SCALE_SHIFT.  Values of 0 and 1 map to 0.
 */
#ifndef KWS_FRONTEND_LOG_SCALE_H
#define KWS_FRONTEND_LOG_SCALE_H

#include <stdint.h>

#include "kws_config.h"

/* Q16 fixed point of the logarithm; the table has 2^7 segments. */
#define KWS_LOG_SCALE_BITS 16
#define KWS_LOG_SEGMENT_BITS 7

/*
 * Each value is first shifted left by log2(FFT size) - filterbank bits / 2 (as
 * in the reference), then its log taken; results saturate at 65535.
 */
void kws_log_scale_apply(const uint32_t signal[KWS_NUM_CHANNELS], uint16_t out[KWS_NUM_CHANNELS]);

#endif /* KWS_FRONTEND_LOG_SCALE_H */
