"""The SQLite archive: schema, every read and write, search and stems, Datasette metadata."""
