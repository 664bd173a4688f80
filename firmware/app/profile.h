/*
 * profile.h - DWT cycle statistics per processing stage over the last
 * KWS_PROFILE_WINDOW iterations, reported as
 * `profile stage=<pre|inf|post|busy> n=.. min=.. max=.. avg=.. peak=..` (peak: the worst since
 * reset), then the UART's losses `profile stage=uart tx_dropped=<writes> rx_overrun=<overruns>`
 * and the stack's high-water mark: `profile stage=stack peak=<bytes> reserve=<bytes>`.
 * `busy` is the whole of a PDM block's handling in stream mode (app/stream.h).
 */
#ifndef KWS_APP_PROFILE_H
#define KWS_APP_PROFILE_H

#include <stdint.h>

enum kws_stage { KWS_STAGE_PRE, KWS_STAGE_INF, KWS_STAGE_POST, KWS_STAGE_BUSY, KWS_STAGE_COUNT };

void kws_profile_add(enum kws_stage stage, uint32_t cycles);

/* Prints one line per stage that has samples, then the UART and stack lines. */
void kws_profile_report(void);

#endif /* KWS_APP_PROFILE_H */
