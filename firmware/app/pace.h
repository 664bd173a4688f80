/*
 * pace.h - keeping up with the microphone: how many 20 ms frames go into one
 * PDM block, and so how often the model runs (the stride).
 *
 * The firmware polls; while the model runs nobody re-arms the PDM, so an
 * inference must end before the next block does.  At boot the model is run
 * once on the empty window and timed with the DWT; the stride is the smallest
 * divisor of a clip's 50 frames (1, 2, 5, 10, 25, 50; at most
 * KWS_PACE_MAX_STRIDE) whose block leaves the model no more than 3/4 of the
 * block time -- the rest covers the frontend (one frame is under 40k cycles),
 * the recognizer and the protocol lines.  The frontend still sees every frame;
 * the model sees the window after every block, i.e. every stride-th frame.
 * Without a counting DWT (Renode's stock platform) the inference reads 0
 * cycles and the stride is 1.  A model too slow even for the largest stride
 * runs at that stride and loses blocks, which `heard` lines count as dropped.
 *
 * The boot line reports the choice: `stride=<frames> block_ms=<ms>
 * boot_inf=<cycles> budget=<cycles> realtime=<0|1>`.
 */
#ifndef KWS_APP_PACE_H
#define KWS_APP_PACE_H

#include <stdint.h>

#include "features.h"
#include "line.h"

/* Largest stride the PDM buffers are sized for: two blocks of stride * 320 samples.
 * int8 models default to 1 (640 bytes per buffer), float32 models to 25 (16,000 bytes per buffer):
 * at 10 their reference-kernel inference (11.9 M Cortex-M4 cycles) exceeds 3/4 of a 200 ms block. */
#ifndef KWS_PACE_MAX_STRIDE
#define KWS_PACE_MAX_STRIDE (KWS_MODEL_INT8 ? 1 : 25)
#endif

/* DWT cycles in one 20 ms frame at the core clock. */
#define KWS_PACE_FRAME_CYCLES ((uint32_t)(KWS_CPU_HZ / 1000u * KWS_STEP_MS))

/* Times the model on f's window (call it empty, right after reset) and picks the stride. */
void kws_pace_plan(const struct kws_features *f);

/* Frames per PDM block, as planned (1 before planning). */
uint32_t kws_pace_stride(void);

/* Starts the PDM with blocks of stride frames (kws_pdm_start: only the first call counts). */
void kws_pace_start_pdm(void);

/* Appends the choice's keys to a line (the boot line). */
void kws_pace_describe(struct kws_line *line);

#endif /* KWS_APP_PACE_H */
