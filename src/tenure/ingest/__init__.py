"""Getting data in: file imports (files, mappings, importer) and the Segment-spec HTTP endpoints."""
