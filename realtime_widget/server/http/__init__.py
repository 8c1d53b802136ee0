"""The HTTP layer: the aiohttp application and its server state, the Realtime routes (client secrets, calls,
hang-up, the WebSocket upgrade), the test-control routes under ``/_local/``, CORS, API keys and HTTP errors in the
API's shape."""
