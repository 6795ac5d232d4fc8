"""Excel in and out: the import template, the import, the export."""
