"""Page -> article: decoding, layout, classification, extraction, images, normalization. Pure: no Scrapy, no archive."""
