"""An offline replica of the CSTO 1C-Bitrix news site, served over real HTTP on loopback, with ground truth.

    site = ReplicaSite(articles_per_language=60, seed=1)
    with serve_replica(site, port=0) as server:
        server.seeds, server.base_urls, server.hits
        site.ground_truth(server.base_urls), site.ground_truth_excluded(server.base_urls)
"""

from .content import ReplicaSite
from .server import ReplicaServer, serve_replica

__all__ = ["ReplicaSite", "ReplicaServer", "serve_replica"]
