import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from bank.models import Customer
from bank.services import demo_bank_seed


@pytest.fixture
def demo_customers() -> list[Customer]:
    return demo_bank_seed()


@pytest.fixture
def customers_by_name(demo_customers) -> dict[str, Customer]:
    return {customer.full_name: customer for customer in demo_customers}


@pytest.fixture
def run_async():
    """Run an async selector from a sync test, as the event loop of a request would.

    The async ORM queries on a worker thread with its own database connection; closing
    it there lets the test database be dropped (PostgreSQL refuses while it is open).
    """

    def run(awaitable):
        async def main():
            try:
                return await awaitable
            finally:
                await sync_to_async(connections.close_all)()

        return asyncio.run(main())

    return run
