"""Run nRF52840 firmware ELFs in an emulator (Renode or the Unicorn backend).

`emulation.unicorn_backend.Machine` runs an ELF here with exact instruction counts;
`emulation.renode_backend.RenodeMachine` drives a real Renode when one is installed.
"""

from emulation.errors import BackendUnavailable, EmulationError, EmulationFault, RunResult, StopReason, StrictModeError

__all__ = ["BackendUnavailable", "EmulationError", "EmulationFault", "RunResult", "StopReason", "StrictModeError"]
