"""Credentials against the servers scripts/clients/run-suites.mjs starts: the plaintext one
(MLCACHE_SERVER) knows MLCACHE_TOKEN (every right everywhere) and MLCACHE_READ_TOKEN (read in
MLCACHE_READ_NAMESPACE only); the TLS one (MLCACHE_TLS_SERVER, mutual TLS, certificates made by
openssl for this run) trusts client certificates signed by MLCACHE_CA and knows the identity
MLCACHE_TLS_IDENTITY (MLCACHE_CERT / MLCACHE_CERT_KEY), which may read and write in tls-*."""

from pathlib import Path

import grpc
import pytest
from conftest import env, key

from mlcache_client import TLS, AsyncCacheClient, CacheClient, CacheError, Retry


def test_without_a_token_is_unauthenticated(server):
    for token in (None, "not-a-token-of-this-server"):
        with CacheClient(server, namespace="client-python", token=token) as cache:
            with pytest.raises(CacheError) as error:
                cache.get(key("a"))
            assert error.value.code == grpc.StatusCode.UNAUTHENTICATED, token


async def test_asyncio_without_a_token_is_unauthenticated(server):
    async with AsyncCacheClient(server, namespace="client-python") as cache:
        with pytest.raises(CacheError) as error:
            await cache.get(key("a"))
        assert error.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_a_read_only_token_reads_but_may_not_set(server):
    with CacheClient(server, namespace=env("MLCACHE_READ_NAMESPACE"), token=env("MLCACHE_READ_TOKEN")) as cache:
        assert cache.get(key("ro"), skip_loader=True) is None
        with pytest.raises(CacheError) as error:
            cache.set(key("ro"), "x")
        assert error.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert "write" in error.value.details


async def test_asyncio_a_read_only_token_may_not_set(server):
    namespace, token = env("MLCACHE_READ_NAMESPACE"), env("MLCACHE_READ_TOKEN")
    async with AsyncCacheClient(server, namespace=namespace, token=token) as cache:
        assert await cache.get(key("ro"), skip_loader=True) is None
        with pytest.raises(CacheError) as error:
            await cache.set(key("ro"), "x")
        assert error.value.code == grpc.StatusCode.PERMISSION_DENIED


def test_a_token_with_a_space_is_refused_without_repeating_it(server):
    with pytest.raises(ValueError) as error:
        CacheClient(server, token="two words")
    assert "two words" not in str(error.value)


def files() -> TLS:
    """This run's CA and client certificate, as paths."""
    return TLS(ca=env("MLCACHE_CA"), cert=env("MLCACHE_CERT"), key=env("MLCACHE_CERT_KEY"))


def test_mutual_tls_the_certificate_is_the_identity():
    with CacheClient(env("MLCACHE_TLS_SERVER"), namespace="tls-python", tls=files()) as cache:
        cache.set(key("tls"), "over TLS")
        assert cache.get(key("tls")).value == b"over TLS"
        # The identity's rights, nothing more: no writes outside tls-*.
        with pytest.raises(CacheError) as error:
            cache.set(key("tls"), "x", namespace="elsewhere")
        assert error.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert env("MLCACHE_TLS_IDENTITY") in error.value.details


async def test_asyncio_mutual_tls_with_pem_bytes():
    paths = files()
    tls = TLS(ca=Path(paths.ca).read_bytes(), cert=Path(paths.cert).read_bytes(), key=Path(paths.key).read_bytes())
    async with AsyncCacheClient(env("MLCACHE_TLS_SERVER"), namespace="tls-python", tls=tls) as cache:
        await cache.set(key("tls-aio"), "over TLS")
        assert (await cache.get(key("tls-aio"))).value == b"over TLS"


def test_without_the_ca_the_server_is_not_trusted():
    paths = files()
    tls = TLS(cert=paths.cert, key=paths.key)  # the system's roots do not know this run's CA
    with CacheClient(env("MLCACHE_TLS_SERVER"), tls=tls, timeout=3, retry=Retry(max_attempts=1)) as cache:
        with pytest.raises(CacheError) as error:
            cache.get(key("a"))
        assert error.value.code == grpc.StatusCode.UNAVAILABLE

