"""The aiohttp peer of `netbench limit_get`: N GETs started at once
(`asyncio.gather`) through one ClientSession whose TCPConnector is limited to
LIMIT connections, each body read whole; the i-th GET asks for post i % 100 + 1.
Prints a RESULT line.

    python limit_get.py BASE_URL N LIMIT
"""
import asyncio
import json
import sys
import time

import aiohttp


async def get(session, url):
    async with session.get(url) as response:
        if response.status != 200:
            raise RuntimeError(f"GET {url}: status {response.status}")
        await response.read()


async def main(base_url, requests, limit):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        cpu0 = time.process_time()
        await asyncio.gather(*(get(session, f"{base_url}/posts/{i % 100 + 1}") for i in range(requests)))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    print("RESULT " + json.dumps({"client": "aiohttp", "secs": elapsed, "cpu_secs": cpu,
                                  "cpu_us_per_req": cpu * 1e6 / requests}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
