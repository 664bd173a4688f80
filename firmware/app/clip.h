/*
 * clip.h - one-second clip classification.  A fresh frontend turns 16000
 * samples into 49 frames, the model runs once, and the firmware prints
 * `result scores=s0,s1,s2,s3 label=<label> checksum=0x<FNV-1a of the 1960
 * input bytes> pre=<cycles> inf=<cycles> post=<cycles>`.
 *
 * Audio comes from the PDM (the next 50 blocks), the UART (32000 bytes of
 * s16le after the `clip uart` command), or memory: kws_clip_feed in .noinit,
 * which a harness may fill before the core starts (see README).
 */
#ifndef KWS_APP_CLIP_H
#define KWS_APP_CLIP_H

#include <stdint.h>

#include "features.h"

#define KWS_CLIP_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_CLIP_MS / 1000)
/* "KWS1": kws_clip_feed.pcm holds a clip to classify at boot. */
#define KWS_CLIP_FEED_MAGIC 0x3153574Bu

struct kws_clip_feed {
    uint32_t magic;
    uint32_t reserved; /* keeps pcm 8-byte aligned for LoadBinary-style writes */
    int16_t pcm[KWS_CLIP_SAMPLES];
};

extern struct kws_clip_feed kws_clip_feed;

/* Classifies kws_clip_feed.pcm if its magic is set at boot, then clears the magic. */
void kws_clip_boot_feed(struct kws_features *f);

void kws_clip_from_memory(struct kws_features *f);
void kws_clip_from_uart(struct kws_features *f);
void kws_clip_from_pdm(struct kws_features *f);

#endif /* KWS_APP_CLIP_H */
