"""Fixtures shared by every test folder: real servers on free ports."""

import pytest

from aiorch.runtime.broker import Bus
from aiorch.runtime.settings import ServiceSettings
from aiorch.runtime.local import NatsServer
from aiorch.runtime.testing import MotoS3Server


@pytest.fixture
def nats_server(tmp_path_factory):
    """A fresh nats-server per test (about 0.1 s), so durable consumers never clash."""
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture
async def bus(nats_server):
    connection = await Bus.open(ServiceSettings(nats_url=nats_server.url), name="test")
    await connection.provision()
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def moto_s3():
    server = MotoS3Server().start()
    yield server
    server.stop()
