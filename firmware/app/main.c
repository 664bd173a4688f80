/*
 * main.c - boot (the model timed once to pace the PDM, app/pace.h), then the
 * first second of PDM audio classified, then a polling loop: UART commands,
 * and in stream mode the PDM stream, with a short pause when neither had
 * anything (board/pause.h).  Protocol: firmware/README.md.
 *
 * Build-time settings (Makefile): KWS_FW_VARIANT, KWS_FW_MODEL, KWS_FW_KERNELS (strings),
 * KWS_DEFAULT_STREAM (1: start streaming at boot, 0: wait for commands).
 */
#include <stdint.h>

#include "board.h"
#include "clip.h"
#include "clock.h"
#include "commands.h"
#include "dwt.h"
#include "fault.h"
#include "features.h"
#include "line.h"
#include "pace.h"
#include "pause.h"
#include "profile.h"
#include "stream.h"
#include "uarte.h"

#if !defined(KWS_FW_VARIANT) || !defined(KWS_FW_MODEL) || !defined(KWS_FW_KERNELS) || !defined(KWS_DEFAULT_STREAM)
#error "build with the firmware Makefile: KWS_FW_VARIANT, KWS_FW_MODEL, KWS_FW_KERNELS, KWS_DEFAULT_STREAM"
#endif

static struct kws_features features;

static void send_boot(int streaming)
{
    struct kws_line line;
    kws_line_begin(&line, "boot");
    kws_line_str(&line, "variant", KWS_FW_VARIANT);
    kws_line_str(&line, "model", KWS_FW_MODEL);
    kws_line_u32(&line, "arena", KWS_MODEL_ARENA_BYTES);
    kws_line_str(&line, "kernels", KWS_FW_KERNELS);
    kws_line_str(&line, "board", KWS_BOARD_NAME);
    kws_line_str(&line, "mode", streaming ? "stream" : "clip");
    kws_pace_describe(&line);
    uint32_t fault_pc;
    if (kws_fault_take_previous(&fault_pc)) {
        kws_line_hex(&line, "last_fault", fault_pc);
    }
    kws_line_send(&line);
}

/* `ok cmd=<cmd> arg=<arg>`: tells the host the command was taken (for `clip uart`: send the audio now). */
static void send_ok(const char *cmd, const char *arg)
{
    struct kws_line line;
    kws_line_begin(&line, "ok");
    kws_line_str(&line, "cmd", cmd);
    if (arg != NULL) {
        kws_line_str(&line, "arg", arg);
    }
    kws_line_send(&line);
}

static void send_error(const char *reason)
{
    struct kws_line line;
    kws_line_begin(&line, "error");
    kws_line_str(&line, "reason", reason);
    kws_line_send(&line);
}

/* Runs one command; returns the new streaming state. */
static int run_command(enum kws_command command, int streaming)
{
    switch (command) {
    case KWS_CMD_MODE_STREAM:
        send_ok("mode", "stream");
        kws_stream_begin(&features);
        return 1;
    case KWS_CMD_MODE_CLIP:
        send_ok("mode", "clip");
        return 0;
    case KWS_CMD_CLIP_PDM:
        send_ok("clip", "pdm");
        kws_clip_from_pdm(&features);
        return 0;
    case KWS_CMD_CLIP_UART:
        send_ok("clip", "uart");
        kws_clip_from_uart(&features);
        return 0;
    case KWS_CMD_PROFILE:
        kws_profile_report();
        return streaming;
    case KWS_CMD_UNKNOWN:
        send_error("unknown-command");
        return streaming;
    case KWS_CMD_RX_LOST:
        send_error("rx-overrun");
        return streaming;
    case KWS_CMD_NONE:
        break;
    }
    return streaming;
}

int main(void)
{
    kws_clock_start_hfxo();
    kws_uarte_init();
    kws_dwt_init();

    int streaming = KWS_DEFAULT_STREAM;
    kws_features_reset(&features);
    kws_pace_plan(&features);
    send_boot(streaming);
    /* Either way the first second of PDM audio is classified (a `result` line): a clip fed from reset. */
    if (streaming) {
        kws_stream_begin(&features);
    } else {
        kws_clip_from_pdm(&features);
    }
    for (;;) {
        enum kws_command command = kws_command_poll(); /* also moves the UART on (board/uarte.h) */
        if (command != KWS_CMD_NONE) {
            uint32_t start = kws_dwt_cycles();
            streaming = run_command(command, streaming);
            kws_stream_charge(kws_dwt_cycles() - start); /* a block may have waited for it */
        }
        int handled = command != KWS_CMD_NONE;
        if (streaming) {
            handled |= kws_stream_poll(&features);
        }
        if (!handled) {
            kws_pause(); /* nothing to do: wait a little before polling again (board/pause.h) */
        }
    }
}
