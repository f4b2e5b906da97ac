import os
import time

import pytest

NAMESPACE = "client-python"
RUN = str(time.time_ns())


def env(name: str) -> str:
    """A variable scripts/clients/run-suites.mjs sets; the test fails without it."""
    value = os.environ.get(name)
    if not value:
        why = os.environ.get("MLCACHE_TLS_ERROR") if name.startswith("MLCACHE_TLS") else None
        pytest.fail(f"{name} is not set: run `npm run test:clients`" + (f" ({why})" if why else ""))
    return value


@pytest.fixture(scope="session")
def server() -> str:
    """host:port of the real server that scripts/clients/run-suites.mjs started."""
    return env("MLCACHE_SERVER")


@pytest.fixture(scope="session")
def token() -> str:
    """A token of that server with every right on every namespace."""
    return env("MLCACHE_TOKEN")


def key(name: str) -> str:
    return f"{RUN}:{name}"
