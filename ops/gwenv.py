"""The environment for a gateway process a script or a test starts."""
from __future__ import annotations

import os
from typing import Any


def gateway_env(**settings: Any) -> dict[str, str]:
    """This process's environment without its own GATEWAY_* settings, plus `settings` as GATEWAY_<NAME>, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update({f"GATEWAY_{k.upper()}": str(v) for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env
