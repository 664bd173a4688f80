/*
 * commands.h - command lines received on the UART (see firmware/README.md):
 *   mode stream | mode clip | clip pdm | clip uart | profile
 * A line ends with '\n' or '\r'; empty lines are ignored.  A line during which received bytes
 * were lost (board/uarte.h) is discarded whole: a command is never guessed from a fragment.
 */
#ifndef KWS_APP_COMMANDS_H
#define KWS_APP_COMMANDS_H

enum kws_command {
    KWS_CMD_NONE,    /* no complete line yet */
    KWS_CMD_UNKNOWN, /* a line that is not a command */
    KWS_CMD_RX_LOST, /* a line some of whose bytes the UART lost (RX overrun): not run */
    KWS_CMD_MODE_STREAM,
    KWS_CMD_MODE_CLIP,
    KWS_CMD_CLIP_PDM,
    KWS_CMD_CLIP_UART,
    KWS_CMD_PROFILE,
};

/* Non-blocking: consumes the bytes received so far, returns a command once a line is complete. */
enum kws_command kws_command_poll(void);

#endif /* KWS_APP_COMMANDS_H */
