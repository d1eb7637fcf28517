"""A paced load loop: the bare-httpx baseline of bench/throughput.py, and the driver of blackbox_exporter.

As the baseline: nothing but GET and read the body, with the daemon's concurrency limit and
connection policy (a fresh connection per request, `Connection: close`). Prints `start N OK` and
`end N OK` (requests completed so far) when its window opens and closes, so the parent reads CPU
times (this process's, or the exporter's it drives) at those moments.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time

import httpx


class Counter:
    def __init__(self) -> None:
        self.done = 0
        self.ok = 0


async def get(client: httpx.AsyncClient, url: str, slots: asyncio.Semaphore, counter: Counter, expect: bytes) -> None:
    async with slots:
        try:
            response = await client.get(url)
            ok = response.status_code == 200 and bool(response.content) and expect in response.content
        except httpx.HTTPError:
            ok = False
    counter.done += 1
    counter.ok += ok


async def paced(client: httpx.AsyncClient, urls: list[str], args: argparse.Namespace, counter: Counter) -> None:
    """Open loop: request k starts at k/rate, as a scheduler would start it, whatever is in flight."""
    slots = asyncio.Semaphore(args.concurrency)
    started = time.monotonic()
    stop = started + args.warmup + args.window + 1.0
    tasks: set[asyncio.Task[None]] = set()
    for k in itertools.count():
        due = started + k / args.rate
        if due > stop:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        task = asyncio.create_task(get(client, urls[k % len(urls)], slots, counter, args.expect.encode()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)


async def window(args: argparse.Namespace, counter: Counter) -> None:
    await asyncio.sleep(args.warmup)
    print(f"start {counter.done} {counter.ok}", flush=True)
    await asyncio.sleep(args.window)
    print(f"end {counter.done} {counter.ok}", flush=True)


async def main_async(args: argparse.Namespace) -> None:
    urls = [args.url_template.format(i=i) for i in range(args.pages)]
    # Keep-alive only when driving an exporter (Prometheus keeps its scrape connections open).
    client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=args.concurrency if args.keepalive else 0),
        headers={} if args.keepalive else {"Connection": "close"},
        trust_env=False,
        timeout=30.0,
    )
    counter = Counter()
    async with client:
        await asyncio.gather(paced(client, urls, args, counter), window(args, counter))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url-template", required=True, help="URL with {i}, the page number")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests/s")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--keepalive", action="store_true", help="reuse connections (to drive an exporter)")
    parser.add_argument("--expect", default="", help="a request is ok only if its body contains this")
    asyncio.run(main_async(parser.parse_args()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
