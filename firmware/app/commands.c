/* commands.c - assembles UART bytes into lines and matches them against the command set. */
#include "commands.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uarte.h"

#define LINE_MAX 32

static char line[LINE_MAX];
static size_t line_len;
static int line_overflow; /* an overlong line is discarded whole */
static int line_lost;     /* bytes of this line were lost on the way in */

static const struct {
    const char *text;
    enum kws_command command;
} table[] = {
    {"mode stream", KWS_CMD_MODE_STREAM}, {"mode clip", KWS_CMD_MODE_CLIP}, {"clip pdm", KWS_CMD_CLIP_PDM},
    {"clip uart", KWS_CMD_CLIP_UART},     {"profile", KWS_CMD_PROFILE},
};

static enum kws_command match(void)
{
    if (line_lost) {
        return KWS_CMD_RX_LOST;
    }
    if (line_overflow) {
        return KWS_CMD_UNKNOWN;
    }
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strlen(table[i].text) == line_len && memcmp(table[i].text, line, line_len) == 0) {
            return table[i].command;
        }
    }
    return KWS_CMD_UNKNOWN;
}

enum kws_command kws_command_poll(void)
{
    uint8_t byte;
    while (kws_uarte_poll_byte(&byte)) {
        line_lost |= kws_uarte_take_rx_loss();
        if (byte == '\n' || byte == '\r') {
            if (line_len == 0 && !line_overflow && !line_lost) {
                continue;
            }
            enum kws_command command = match();
            line_len = 0;
            line_overflow = 0;
            line_lost = 0;
            return command;
        }
        if (line_len < LINE_MAX) {
            line[line_len++] = (char)byte;
        } else {
            line_overflow = 1;
        }
    }
    return KWS_CMD_NONE;
}
