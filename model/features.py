"""Contract 3 (architecture.md): ``model.features.microfrontend(pcm)``, the C micro frontend on
1-D int16 samples at 16 kHz, returning uint16 (frames, 40). It lives with the other audio code in
:mod:`model.data.features`; this name stays so that checks and users calling it keep working."""

from model.data.features import microfrontend

__all__ = ["microfrontend"]
