/* line.c - key=value line formatting without printf (no libc formatting code in flash). */
#include "line.h"

#include "uarte.h"

/* Keeps one byte free for the newline. */
static void put_char(struct kws_line *line, char c)
{
    if (line->len < KWS_LINE_MAX - 1) {
        line->text[line->len++] = c;
    }
}

static void put_str(struct kws_line *line, const char *s)
{
    while (*s != '\0') {
        put_char(line, *s++);
    }
}

static void put_u32(struct kws_line *line, uint32_t value)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) {
        put_char(line, digits[--n]);
    }
}

static void put_i32(struct kws_line *line, int32_t value)
{
    if (value < 0) {
        put_char(line, '-');
        put_u32(line, 0u - (uint32_t)value);
    } else {
        put_u32(line, (uint32_t)value);
    }
}

static void put_key(struct kws_line *line, const char *key)
{
    put_char(line, ' ');
    put_str(line, key);
    put_char(line, '=');
}

void kws_line_begin(struct kws_line *line, const char *record)
{
    line->len = 0;
    put_str(line, record);
}

void kws_line_str(struct kws_line *line, const char *key, const char *value)
{
    put_key(line, key);
    put_str(line, value);
}

void kws_line_u32(struct kws_line *line, const char *key, uint32_t value)
{
    put_key(line, key);
    put_u32(line, value);
}

void kws_line_i32(struct kws_line *line, const char *key, int32_t value)
{
    put_key(line, key);
    put_i32(line, value);
}

void kws_line_hex(struct kws_line *line, const char *key, uint32_t value)
{
    static const char hex[] = "0123456789abcdef";
    put_key(line, key);
    put_str(line, "0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        put_char(line, hex[(value >> shift) & 0xFu]);
    }
}

void kws_line_i8_list(struct kws_line *line, const char *key, const int8_t *values, size_t n)
{
    put_key(line, key);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            put_char(line, ',');
        }
        put_i32(line, values[i]);
    }
}

void kws_line_send(struct kws_line *line)
{
    line->text[line->len++] = '\n';
    kws_uarte_write(line->text, line->len);
}
