/*
 * kws_config.h - the project's single source of truth for audio, frontend and
 * target constants.  The firmware includes it; the Python package reads the
 * `#define KWS_...` lines below (model/config.py), so keep each one a plain
 * integer literal on a line of its own.
 */
#ifndef KWS_CONFIG_H
#define KWS_CONFIG_H

/* Audio: 16 kHz mono signed 16-bit, one-second clips. */
#define KWS_SAMPLE_RATE_HZ 16000
#define KWS_CLIP_MS 1000

/* Micro frontend, micro_speech parameters. */
#define KWS_WINDOW_MS 30
#define KWS_STEP_MS 20
#define KWS_NUM_CHANNELS 40
#define KWS_LOWER_BAND_HZ 125
#define KWS_UPPER_BAND_HZ 7500
/* Noise reduction: smoothing factors are given in units of 1/1000. */
#define KWS_NR_SMOOTHING_BITS 10
#define KWS_NR_EVEN_SMOOTHING_MILLI 25
#define KWS_NR_ODD_SMOOTHING_MILLI 60
#define KWS_NR_MIN_SIGNAL_REMAINING_MILLI 50
/* PCAN gain control: strength and offset in units of 1/100. */
#define KWS_PCAN_ENABLE 1
#define KWS_PCAN_STRENGTH_CENTI 95
#define KWS_PCAN_OFFSET_CENTI 8000
#define KWS_PCAN_GAIN_BITS 21
/* Log scale. */
#define KWS_LOG_ENABLE 1
#define KWS_LOG_SCALE_SHIFT 6

/* Target: nRF52840. */
#define KWS_CPU_HZ 64000000
#define KWS_FLASH_BYTES 1048576
#define KWS_RAM_BYTES 262144

/* Post-processing: micro_speech RecognizeCommands. Scores are int8 + 128 (0-255). */
#define KWS_RC_AVERAGE_WINDOW_MS 1000
#define KWS_RC_DETECTION_THRESHOLD 200
#define KWS_RC_SUPPRESSION_MS 1500
#define KWS_RC_MINIMUM_COUNT 3
#define KWS_RC_MINIMUM_SPAN_MS 250
/* Capacity of its result queue (a 1000 ms window at 20 ms holds 51) and of its class count. */
#define KWS_RC_MAX_RESULTS 64
#define KWS_RC_MAX_CLASSES 8

/* Firmware: UART line protocol speed, stage-cycle statistics window (iterations). */
#define KWS_UART_BAUD 115200
#define KWS_PROFILE_WINDOW 50

#endif /* KWS_CONFIG_H */
