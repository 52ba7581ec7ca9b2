"""Thin synchronous wrappers around the official MCP Python client (`mcp`)."""

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def with_stdio_session(command, args, env, body):
    """Runs `body(session, init_result)` (an async function) against a stdio server."""

    async def main():
        params = StdioServerParameters(command=str(command), args=[str(a) for a in args], env=env)
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await body(session, init)

    return anyio.run(main)
