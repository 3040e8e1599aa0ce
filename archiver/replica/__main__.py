"""Command line: `python -m archiver.replica serve|groundtruth ...`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from . import ReplicaSite, serve_replica


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archiver.replica", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "groundtruth"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, default=8000 if name == "serve" else None, required=name != "serve")
        p.add_argument("--articles", type=int, default=60, help="articles per language")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--flavour", choices=("classic", "variant"), default="classic",
                       help="variant: the same site with other markup and wording")
        p.add_argument("--hosts", default="127.0.0.1,127.0.0.2", help="English and Russian loopback addresses")
        p.add_argument("--external-host", default="127.0.0.3")
    serve = sub.choices["serve"]
    serve.add_argument("--slow-seconds", type=float, default=4.0)
    serve.add_argument("--huge-page-bytes", type=int, default=12_000_000)
    gt = sub.choices["groundtruth"]
    gt.add_argument("--excluded", action="store_true", help="print the excluded URLs instead")
    args = parser.parse_args(argv)

    hosts = tuple(h.strip() for h in args.hosts.split(","))
    site = ReplicaSite(articles_per_language=args.articles, seed=args.seed, flavour=args.flavour)
    if args.command == "groundtruth":
        base_urls = {"en": f"http://{hosts[0]}:{args.port}", "ru": f"http://{hosts[1]}:{args.port}"}
        if args.excluded:
            data = site.ground_truth_excluded(base_urls, f"http://{args.external_host}:{args.port}")
        else:
            data = site.ground_truth(base_urls)
        json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    server = serve_replica(site, port=args.port, hosts=hosts, external_host=args.external_host or None,
                           slow_seconds=args.slow_seconds, huge_page_bytes=args.huge_page_bytes)
    print("Replica serving; seed URLs:")
    for url in server.seeds:
        print("  " + url)
    print(f"External host: {server.external_url}  (Ctrl-C to stop)", flush=True)
    # a background job started by a script ignores SIGINT, so SIGTERM must stop it cleanly too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
