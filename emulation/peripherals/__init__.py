"""nRF52840 / Cortex-M4 peripherals of the Unicorn backend, modelled as Renode models them."""
