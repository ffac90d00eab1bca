"""The aiohttp peer of `netbench http_get`: N GETs of URL by C workers, each
sending its share one after another, through one ClientSession whose
TCPConnector is limited to C connections (keep-alive). Prints a RESULT line.

    python http_get.py URL N C
"""
import asyncio
import json
import sys
import time

import aiohttp


async def worker(session, url, share):
    total = 0
    for _ in range(share):
        async with session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            total += len(await response.read())
    return total


async def main(url, requests, conns):
    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        cpu0 = time.process_time()
        shares = [requests // conns + (1 if w < requests % conns else 0) for w in range(conns)]
        sizes = await asyncio.gather(*(worker(session, url, s) for s in shares))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    print("RESULT " + json.dumps({"client": "aiohttp", "secs": elapsed,
                                  "req_per_sec": requests / elapsed,
                                  "cpu_us_per_req": cpu * 1e6 / requests, "body_bytes": sum(sizes)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
