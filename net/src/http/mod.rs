//! HTTP/1.1 client (aiohttp's `ClientSession` with `TCPConnector` limits) and a small server.
