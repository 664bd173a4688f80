#include "hal.h"

/* EasyDMA reads RAM only: every transmission is copied into this buffer first. */
static char tx_buf[128];
static volatile char rx_byte;

void uart_init(void)
{
    CLOCK_TASKS_HFCLKSTART = 1;
    while (!CLOCK_EVENTS_HFCLKSTARTED) {
    }
    UARTE_ENABLE = 8;
}

void uart_write(const char *buf, uint32_t len)
{
    while (len > 0) {
        uint32_t n = len < sizeof tx_buf ? len : sizeof tx_buf;
        for (uint32_t i = 0; i < n; i++) {
            tx_buf[i] = buf[i];
        }
        UARTE_EVENTS_ENDTX = 0;
        UARTE_TXD_PTR = (uint32_t)tx_buf;
        UARTE_TXD_MAXCNT = n;
        UARTE_TASKS_STARTTX = 1;
        while (!UARTE_EVENTS_ENDTX) {
        }
        buf += n;
        len -= n;
    }
}

void put_str(const char *s)
{
    uint32_t n = 0;
    while (s[n]) {
        n++;
    }
    uart_write(s, n);
}

void put_u32(uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char out[10];
    for (int i = 0; i < n; i++) {
        out[i] = digits[n - 1 - i];
    }
    uart_write(out, (uint32_t)n);
}

void put_i32(int32_t v)
{
    if (v < 0) {
        put_str("-");
        put_u32((uint32_t)(-(int64_t)v));
    } else {
        put_u32((uint32_t)v);
    }
}

int uart_getc(void)
{
    UARTE_EVENTS_ENDRX = 0;
    UARTE_RXD_PTR = (uint32_t)&rx_byte;
    UARTE_RXD_MAXCNT = 1;
    UARTE_TASKS_STARTRX = 1;
    while (!UARTE_EVENTS_ENDRX) {
    }
    return rx_byte;
}

void dwt_enable(void)
{
    DEMCR |= 1u << 24;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1;
}
