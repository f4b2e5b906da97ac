import os
import time

import pytest

NAMESPACE = "client-python"
RUN = str(time.time_ns())


@pytest.fixture(scope="session")
def server() -> str:
    """host:port of the real server that scripts/clients/run-suites.mjs started."""
    target = os.environ.get("MLCACHE_SERVER")
    if not target:
        pytest.fail("MLCACHE_SERVER must name a running server: run `npm run test:clients`")
    return target


def key(name: str) -> str:
    return f"{RUN}:{name}"
