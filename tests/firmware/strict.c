/* Bus strictness test firmware: prints "ready", then does one access the chip refuses or the
 * emulator does not model per command byte received on UARTE0, and prints "done" if it survives. */
#include "hal.h"

#define NVMC_READY REG(0x4001E400)
#define NVMC_CONFIG REG(0x4001E504)
#define FLASH_WORD REG(0x000F0000) /* far past the image: erased */
#define POWER_RESETREAS REG(0x40000400) /* in CLOCK's page, not modelled */
#define TEMP_TEMP REG(0x4000C508)       /* a peripheral without a model */

static const char in_flash[] = "from flash\n";

static void nvmc_config(uint32_t wen)
{
    NVMC_CONFIG = wen;
    while (!NVMC_READY) {
    }
}

/* Programs FLASH_WORD twice (programming clears bits only) and prints what it reads back. */
static void program_flash(void)
{
    nvmc_config(1);
    FLASH_WORD = 0x12345678u;
    while (!NVMC_READY) {
    }
    FLASH_WORD = 0xFFFF00FFu;
    while (!NVMC_READY) {
    }
    nvmc_config(0);
    put_str("flash=");
    put_u32(FLASH_WORD);
    put_str("\n");
}

int main(void)
{
    uart_init();
    put_str("ready\n");
    for (;;) {
        switch (uart_getc()) {
        case 'f':
            FLASH_WORD = 0; /* NVMC not set for writing */
            break;
        case 'P':
            program_flash();
            break;
        case 'h':
            nvmc_config(1);
            *(volatile uint16_t *)0x000F0004u = 0; /* the NVMC programs whole words only */
            break;
        case 'd':
            UARTE_EVENTS_ENDTX = 0;
            UARTE_TXD_PTR = (uint32_t)in_flash; /* EasyDMA cannot read flash */
            UARTE_TXD_MAXCNT = sizeof in_flash - 1;
            UARTE_TASKS_STARTTX = 1;
            while (!UARTE_EVENTS_ENDTX) {
            }
            break;
        case 'r':
            (void)POWER_RESETREAS;
            break;
        case 't':
            (void)TEMP_TEMP;
            break;
        case 'l':
            UARTE_TXD_LEGACY = 'X';
            break;
        default:
            put_str("unknown\n");
            continue;
        }
        put_str("done\n");
    }
}
