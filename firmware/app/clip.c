/* clip.c - one clip through frontend, model and arg-max, with a result line. */
#include "clip.h"

#include "dwt.h"
#include "infer.h"
#include "line.h"
#include "pdm.h"
#include "profile.h"
#include "uarte.h"

__attribute__((section(".noinit"))) struct kws_clip_feed kws_clip_feed;

#define CLIP_BLOCKS (KWS_CLIP_SAMPLES / KWS_PDM_BLOCK_SAMPLES)

/* Model, arg-max and the result line, given the preprocessing cycles. */
static void classify(const struct kws_features *f, uint32_t pre_cycles)
{
    int8_t scores[KWS_MODEL_NUM_CLASSES];
    uint32_t inf_cycles;
    if (kws_infer(f->window, scores, &inf_cycles) != 0) {
        return;
    }
    uint32_t start = kws_dwt_cycles();
    int32_t label = kws_argmax(scores);
    uint32_t post_cycles = kws_dwt_cycles() - start;

    kws_profile_add(KWS_STAGE_PRE, pre_cycles);
    kws_profile_add(KWS_STAGE_INF, inf_cycles);
    kws_profile_add(KWS_STAGE_POST, post_cycles);

    struct kws_line line;
    kws_line_begin(&line, "result");
    kws_line_i8_list(&line, "scores", scores, KWS_MODEL_NUM_CLASSES);
    kws_line_str(&line, "label", kws_model_labels[label]);
    kws_line_hex(&line, "checksum", kws_features_checksum(f));
    kws_line_u32(&line, "pre", pre_cycles);
    kws_line_u32(&line, "inf", inf_cycles);
    kws_line_u32(&line, "post", post_cycles);
    kws_line_send(&line);
}

void kws_clip_from_memory(struct kws_features *f)
{
    uint32_t start = kws_dwt_cycles();
    kws_features_reset(f);
    kws_features_push(f, kws_clip_feed.pcm, KWS_CLIP_SAMPLES);
    classify(f, kws_dwt_cycles() - start);
}

void kws_clip_boot_feed(struct kws_features *f)
{
    if (kws_clip_feed.magic == KWS_CLIP_FEED_MAGIC) {
        kws_clip_feed.magic = 0; /* a reset must not classify it again */
        kws_clip_from_memory(f);
    }
}

void kws_clip_from_uart(struct kws_features *f)
{
    /* The core is little-endian: s16le bytes land as int16 samples. */
    kws_uarte_read((uint8_t *)kws_clip_feed.pcm, sizeof(kws_clip_feed.pcm));
    kws_clip_from_memory(f);
}

void kws_clip_from_pdm(struct kws_features *f)
{
    kws_pdm_start();
    (void)kws_pdm_poll_block(); /* a block left over from before is stale: drop it */
    kws_features_reset(f);
    uint32_t pre_cycles = 0;
    for (uint32_t b = 0; b < CLIP_BLOCKS; b++) {
        const int16_t *block;
        while ((block = kws_pdm_poll_block()) == NULL) {
        }
        uint32_t start = kws_dwt_cycles();
        kws_features_push(f, block, KWS_PDM_BLOCK_SAMPLES);
        pre_cycles += kws_dwt_cycles() - start;
    }
    classify(f, pre_cycles);
}
