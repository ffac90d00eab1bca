# Seed 004's asynchronous program (aiohttp with TCPConnector(limit) and
# asyncio.gather), as the seed wrote it, with three changes for the benchmark:
# BASE_URL, POSTS and MAX_CONNECTIONS come from the command line (pointed at
# the embedded jsonplaceholder on 127.0.0.1), and the loop is started with
# asyncio.run (get_event_loop outside a running loop is deprecated).
#
#     python fetch_posts_seed.py http://127.0.0.1:PORT/posts/ 100 10
import asyncio
import sys
import time

import aiohttp

BASE_URL = sys.argv[1]
POSTS = int(sys.argv[2])
MAX_CONNECTIONS = int(sys.argv[3])


async def fetch_api_async(post, session):
    print('Fetching post {}, '.format(post), end='')
    response = await session.get(BASE_URL + str(post))
    print('Fetched post {}, '.format(
        post), end='')


async def main():

    conn = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    async with aiohttp.ClientSession(connector=conn) as session:
        tasks = [fetch_api_async(post, session) for post in range(1, POSTS+1)]
        await asyncio.gather(*tasks)


if __name__ == "__main__":
    start = time.time()

    asyncio.run(main())
    print()
    print("Finished in {}s".format(time.time() - start))
