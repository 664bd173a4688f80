/* pace.c - see pace.h. */
#include "pace.h"

#include "infer.h"
#include "pdm.h"

#define CLIP_FRAMES (KWS_CLIP_MS / KWS_STEP_MS)

_Static_assert(KWS_PACE_MAX_STRIDE >= 1 && CLIP_FRAMES % KWS_PACE_MAX_STRIDE == 0,
               "KWS_PACE_MAX_STRIDE must divide the 50 frames of a clip");
_Static_assert(KWS_PACE_MAX_STRIDE * KWS_PDM_FRAME_SAMPLES <= 0x7FFF, "SAMPLE.MAXCNT has 15 bits");

static int16_t buffers[2][KWS_PACE_MAX_STRIDE * KWS_PDM_FRAME_SAMPLES];
static uint32_t stride = 1;
static uint32_t inf_cycles;

static uint32_t budget(uint32_t frames) { return frames * (KWS_PACE_FRAME_CYCLES / 4u * 3u); }

void kws_pace_plan(const struct kws_features *f)
{
    int8_t scores[KWS_MODEL_NUM_CLASSES];
    if (kws_infer(f->window, scores, &inf_cycles) != 0) {
        inf_cycles = 0;
    }
    stride = 1;
    for (uint32_t k = 1; k <= KWS_PACE_MAX_STRIDE; k++) {
        if (CLIP_FRAMES % k == 0) {
            stride = k;
            if (inf_cycles <= budget(k)) {
                break;
            }
        }
    }
}

uint32_t kws_pace_stride(void) { return stride; }

void kws_pace_start_pdm(void) { kws_pdm_start(buffers[0], buffers[1], stride); }

void kws_pace_describe(struct kws_line *line)
{
    kws_line_u32(line, "stride", stride);
    kws_line_u32(line, "block_ms", stride * KWS_STEP_MS);
    kws_line_u32(line, "boot_inf", inf_cycles);
    kws_line_u32(line, "budget", budget(stride));
    kws_line_u32(line, "realtime", inf_cycles <= budget(stride));
}
