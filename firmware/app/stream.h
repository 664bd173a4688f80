/*
 * stream.h - streaming recognition: every 20 ms PDM block goes through the
 * frontend; after each new frame the model runs on the last 49 frames and
 * RecognizeCommands decides; new detections print
 * `heard label=<label> score=<0-255> t_ms=<ms> dropped=<blocks>`.
 *
 * t_ms is virtual audio time: 20 ms per PDM block since the stream began.
 * Polling cannot re-arm the PDM while the model runs, so blocks that arrive
 * during a long inference are lost; when the DWT counts, lost blocks are
 * estimated from the cycles elapsed and still advance t_ms (dropped counts
 * them).  Without a DWT (Renode's stock platform) t_ms counts processed
 * blocks only.
 */
#ifndef KWS_APP_STREAM_H
#define KWS_APP_STREAM_H

#include "features.h"

/* Starts the PDM if needed, resets frontend, window and recognizer. */
void kws_stream_begin(struct kws_features *f);

/* Non-blocking: processes the next PDM block if one is ready. */
void kws_stream_poll(struct kws_features *f);

#endif /* KWS_APP_STREAM_H */
