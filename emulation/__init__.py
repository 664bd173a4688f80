"""Run nRF52840 firmware ELFs in an emulator (Renode or the Unicorn backend)."""
