"""Excel in and out: the import template, the import, the export.

- `template.template_workbook(language)`: the workbook a county fills in;
- `importer.import_workbook(uow, data, …)`: read (`package`, `reading`), check (`cells`, `rows`,
  `checks`) and write it in one transaction, or list every wrong cell;
- `exporter.export_workbook(uow, …)`: a date range's reports, problems, letters and ranking;
- `columns`, `vocabulary`, `layout`: the sheets' columns, the words read in either language,
  and how the workbooks look.
"""
