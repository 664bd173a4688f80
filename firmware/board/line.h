/*
 * line.h - one protocol line: `<record> key=value key=value ...\n`, built in
 * a fixed buffer and queued for the UARTE in one go (board/uarte.h: never waits; a line
 * that does not fit the TX ring is dropped whole and counted).  Values are plain ASCII
 * without spaces; an overlong line is truncated, never overflowed.
 */
#ifndef KWS_BOARD_LINE_H
#define KWS_BOARD_LINE_H

#include <stddef.h>
#include <stdint.h>

#define KWS_LINE_MAX 192

struct kws_line {
    char text[KWS_LINE_MAX];
    size_t len;
};

void kws_line_begin(struct kws_line *line, const char *record);
void kws_line_str(struct kws_line *line, const char *key, const char *value);
void kws_line_u32(struct kws_line *line, const char *key, uint32_t value);
void kws_line_i32(struct kws_line *line, const char *key, int32_t value);
/* 0x-prefixed lower-case hex, 8 digits. */
void kws_line_hex(struct kws_line *line, const char *key, uint32_t value);
/* key=v0,v1,... */
void kws_line_i8_list(struct kws_line *line, const char *key, const int8_t *values, size_t n);
/* Appends the newline and queues the line for transmission. */
void kws_line_send(struct kws_line *line);

#endif /* KWS_BOARD_LINE_H */
