"""Several workers on one scrapy-redis queue, and the one writer that stores their items."""
