/*
 * clip.h - one-second clip classification.  A fresh frontend turns 16000
 * samples into 49 frames, the model runs once, and the firmware prints
 * `result scores=s0,s1,s2,s3 label=<label> checksum=0x<FNV-1a of the model
 * input bytes> pre=<cycles> inf=<cycles> post=<cycles>`.
 *
 * Audio streams through the frontend as it arrives, from the PDM (the next
 * 16000 samples) or the UART (32000 bytes of s16le after the `clip uart`
 * command): no clip-sized buffer exists.
 */
#ifndef KWS_APP_CLIP_H
#define KWS_APP_CLIP_H

#include <stdint.h>

#include "features.h"

#define KWS_CLIP_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_CLIP_MS / 1000)

void kws_clip_from_uart(struct kws_features *f);
void kws_clip_from_pdm(struct kws_features *f);

/* The result line for f's window and its scores, given the stage cycles; returns the post cycles (arg-max). */
uint32_t kws_clip_report(const struct kws_features *f, const int8_t *scores, uint32_t pre_cycles,
                         uint32_t inf_cycles);

#endif /* KWS_APP_CLIP_H */
