"""What a crawl captures besides articles: WARC files, media files, and their verification."""
